/**
 * The signal and image operators: window functions, MelWeightMatrix, DFT,
 * STFT, GridSample and RoiAlign.
 * One module per family under signal/.
 */
import './signal/windows.ts';
import './signal/dft.ts';
import './signal/image.ts';
