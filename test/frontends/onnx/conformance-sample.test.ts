/**
 * A fixed sample of the ONNX backend conformance tests (the whole suite is
 * `npm run conformance`), so CI catches regressions in the importer, the
 * legalizations and the code generators. The sample runs on the CPU and,
 * where an adapter exists (CI: always), built for WebGPU on the GPU. Needs
 * Debian's libonnx-testdata (installed by .ci/run) or ONNX_TESTDATA;
 * elsewhere it says so and skips.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCase } from '../../../conformance/run-case.ts';
import { findTestData } from '../../../conformance/runner-paths.ts';
import { describeWebGpu } from '../../helpers/webgpu.ts';

const SAMPLE: Record<string, readonly string[]> = {
  node: [
    'test_abs',
    'test_add_bcast',
    'test_argmax_keepdims_random_select_last_index',
    'test_averagepool_2d_pads_count_include_pad',
    'test_batchnorm_epsilon',
    'test_batchnorm_example_training_mode',
    'test_blackmanwindow_symmetric',
    'test_cast_FLOAT_to_FLOAT16',
    'test_concat_3d_axis_negative_1',
    'test_conv_with_strides_and_asymmetric_padding',
    'test_convtranspose_pads',
    'test_convtranspose_3d',
    'test_cumsum_2d_axis_1',
    'test_dft_axis',
    'test_depthtospace_crd_mode_example',
    'test_expand_dim_changed',
    'test_gather_negative_indices',
    'test_gemm_all_attributes',
    'test_gridsample_bicubic',
    'test_globalaveragepool',
    'test_layer_normalization_4d_axis1',
    'test_matmul_3d',
    'test_maxpool_2d_ceil',
    'test_maxpool_with_argmax_2d_precomputed_strides',
    'test_melweightmatrix',
    'test_edge_pad',
    'test_reduce_mean_keepdims_random',
    'test_reshape_negative_dim',
    'test_roialign_aligned_true',
    'test_resize_upsample_scales_cubic',
    'test_resize_downsample_sizes_linear_pytorch_half_pixel',
    'test_slice_neg_steps',
    'test_softmax_axis_1',
    'test_split_variable_parts_1d',
    'test_squeeze_negative_axes',
    'test_stft_with_window',
    'test_tile',
    'test_top_k_smallest',
    'test_transpose_all_permutations_3',
    'test_tril_neg',
    'test_where_long_example',
    'test_range_int32_type_negative_delta',
    'test_hardswish',
    'test_onehot_negative_indices',
    'test_scatter_elements_with_duplicate_indices',
  ],
  'pytorch-converted': [
    'test_Conv2d_groups',
    'test_BatchNorm2d_eval',
    'test_Linear',
    'test_PReLU_2d_multiparam',
    'test_MaxPool2d',
    'test_PixelShuffle',
    'test_ReflectionPad2d',
    'test_Embedding',
  ],
  'pytorch-operator': [
    'test_operator_conv',
    'test_operator_maxpool',
    'test_operator_view',
    'test_operator_params',
    'test_operator_chunk',
  ],
  simple: ['test_expand_shape_model1', 'test_sign_model', 'test_single_relu_model'],
};

let root: string | undefined;
try {
  root = findTestData();
} catch (e) {
  if (process.env.CI) throw e;
}

describe.skipIf(!root)('ONNX conformance sample', () => {
  for (const [category, names] of Object.entries(SAMPLE)) {
    for (const name of names) {
      test(`${category}/${name}`, async () => {
        const dir = join(root!, category, name);
        expect(existsSync(dir), `${dir} is missing`).toBe(true);
        const r = await runCase(dir, category, name);
        expect(r.status, r.detail).toBe('pass');
      });
    }
  }
});

/** Sample tests whose model computes in float64, which WGSL lacks: refused at build time on WebGPU. */
const FLOAT64: ReadonlySet<string> = new Set(['node/test_cumsum_2d_axis_1']);

if (root) {
  describeWebGpu('ONNX conformance sample on WebGPU', () => {
    for (const [category, names] of Object.entries(SAMPLE)) {
      for (const name of names) {
        test(`${category}/${name}`, async () => {
          const r = await runCase(join(root, category, name), category, name, 'webgpu');
          if (FLOAT64.has(`${category}/${name}`)) {
            expect(r.status).toBe('unsupported');
            expect(r.detail).toMatch(/WebGPU has no 64-bit floats/);
          } else expect(r.status, r.detail).toBe('pass');
        });
      }
    }
  });
}

if (!root)
  console.warn('ONNX test data not found (install libonnx-testdata or set ONNX_TESTDATA): the conformance sample is skipped');
