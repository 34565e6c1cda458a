/** Legalizations of the operators of src/ops/manipulate.ts (to be written). */
export {};
