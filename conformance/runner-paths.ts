/** Where the ONNX backend test data is, and which of its categories Kiln runs. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `real` holds only download links to large models, so it is not run. */
export const CATEGORIES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;

const CANDIDATES = ['/usr/share/libonnx-testdata/data', '/usr/include/onnx/backend/test/data'];

export function findTestData(): string {
  const dir = process.env.ONNX_TESTDATA ?? CANDIDATES.find((d) => existsSync(join(d, 'node')));
  if (!dir || !existsSync(dir)) {
    throw new Error(
      `ONNX test data not found (looked in ${CANDIDATES.join(', ')}); install Debian's libonnx-testdata or set ONNX_TESTDATA`,
    );
  }
  return dir;
}
