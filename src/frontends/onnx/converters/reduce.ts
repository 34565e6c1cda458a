/**
 * Reductions, arg-reductions, scans, gathers and scatters, TopK, the
 * triangular and matrix operators and the classification losses: importing
 * this registers their converters (one module per family under reduce/).
 */
import './reduce/reductions.ts';
import './reduce/indexing.ts';
import './reduce/matrix.ts';
import './reduce/loss.ts';
