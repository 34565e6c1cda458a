/** Legalizations of the operators of src/ops/linear.ts (to be written). */
export {};
