import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { expectClose } from '../../../test/expectClose';
import { readF32 } from '../../gpu/buffers';
import { ComputeBatch } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { encodeRmsNorm } from './rmsnorm';
import { rmsNormReference } from './rmsnorm.ref';
import { uploadWeight, WEIGHT_DTYPES } from './testing';


// The GPU sums squares in a different order and its inverseSqrt is within 2 ulp: a few ulp of O(1) outputs.
const RMSNORM_TOLERANCE = { atol: 2e-6, rtol: 2e-6 };

const CASES = [
  { rows: 1, n: 64 },
  { rows: 3, n: 200 },
  { rows: 37, n: 96 },
  { rows: 5, n: 999 }, // more than one stride of 256 threads, and odd
];

describe('encodeRmsNorm', () => {
  for (const dtype of WEIGHT_DTYPES) {
    for (const { rows, n } of CASES) {
      it(`normalises [${rows}, ${n}] with a ${dtype} weight`, async () => {
        const runtime = await gpuRuntime();
        if (!runtime) return;
        const random = new Random(rows * 1000 + n);
        const xValues = random.normals(rows * n, 3);
        const weight = uploadWeight(runtime, 'weight', [n], random.normals(n), dtype);
        const x = runtime.allocator.createTensorFrom('x', [rows, n], 'f32', xValues);
        const out = runtime.allocator.createTensor('out', [rows, n], 'f32');

        const batch = new ComputeBatch(runtime, 'rmsnorm');
        encodeRmsNorm(batch, { x, weight: weight.tensor, eps: 1e-6, out });
        await batch.submit();

        expectClose(`rmsnorm ${dtype}`, await readF32(runtime.device, out), rmsNormReference(xValues, weight.decoded, 1e-6), RMSNORM_TOLERANCE);
      });
    }
  }

  it('normalises each head of [T, H·D] in place', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(7);
    const [tokens, heads, headDim] = [3, 5, 128];
    const xValues = random.normals(tokens * heads * headDim);
    const weight = uploadWeight(runtime, 'q_norm', [headDim], random.normals(headDim), 'bf16');
    const x = runtime.allocator.createTensorFrom('q', [tokens, heads * headDim], 'f32', xValues);

    const batch = new ComputeBatch(runtime, 'rmsnorm');
    encodeRmsNorm(batch, { x, weight: weight.tensor, eps: 1e-6, out: x });
    await batch.submit();

    expectClose('per-head rmsnorm in place', await readF32(runtime.device, x), rmsNormReference(xValues, weight.decoded, 1e-6), RMSNORM_TOLERANCE);
  });

  it('rejects x that is not whole runs', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const x = runtime.allocator.createTensor('x', [3, 10], 'f32');
    const weight = runtime.allocator.createTensor('weight', [4], 'f32');
    const batch = new ComputeBatch(runtime, 'rmsnorm');
    expect(() => encodeRmsNorm(batch, { x, weight, eps: 1e-6, out: x })).toThrow('encodeRmsNorm: x has shape [3, 10]');
  });
});
