/** Legalizations of the operators of src/ops/image.ts (to be written). */
export {};
