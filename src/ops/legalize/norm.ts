/** Legalizations of the operators of src/ops/norm.ts (to be written). */
export {};
