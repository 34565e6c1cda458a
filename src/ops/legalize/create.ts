/** Legalizations of the operators of src/ops/create.ts (to be written). */
export {};
