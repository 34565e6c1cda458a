/**
 * The signal operators: window functions, MelWeightMatrix, DFT and STFT.
 * One module per family under signal/.
 */
import './signal/windows.ts';
import './signal/dft.ts';
