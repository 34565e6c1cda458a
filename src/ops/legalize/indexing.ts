/** Legalizations of the operators of src/ops/indexing.ts (to be written). */
export {};
