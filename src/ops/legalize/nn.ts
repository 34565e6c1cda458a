/** Legalizations of the operators of src/ops/nn.ts (to be written). */
export {};
