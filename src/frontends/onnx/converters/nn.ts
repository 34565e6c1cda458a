/**
 * The neural-network operators: convolutions, pooling, normalizations,
 * matrix products, Softmax and friends, Pad, Resize, Einsum and the
 * rearrangements of channels and space. One module per family under nn/.
 */
import './nn/conv.ts';
import './nn/pool.ts';
import './nn/norm.ts';
import './nn/linear.ts';
import './nn/softmax.ts';
import './nn/layout.ts';
import './nn/resize.ts';
import './nn/einsum.ts';
import './nn/recurrent.ts';
