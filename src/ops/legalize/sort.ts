/** Legalizations of the operators of src/ops/sort.ts (to be written). */
export {};
