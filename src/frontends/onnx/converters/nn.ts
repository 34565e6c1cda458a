/** Convolutions, pooling, normalization, matrix products, Softmax, Pad, Resize (to be written). */
export {};
