/** Reductions, arg-reductions, scans, TopK, gathers and scatters (to be written). */
export {};
