/** Legalizations of the operators of src/ops/reduce.ts (to be written). */
export {};
