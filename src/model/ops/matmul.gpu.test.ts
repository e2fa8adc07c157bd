import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { expectClose } from '../../../test/expectClose';
import { readF32 } from '../../gpu/buffers';
import { ComputeBatch } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { encodeMatmul } from './matmul';
import { matmulReference } from './matmul.ref';
import { uploadWeight, WEIGHT_DTYPES } from './testing';


// f32 sums of up to 200 products of unit normals in another order: errors of a few 1e-6 on outputs of size ~10.
const MATMUL_TOLERANCE = { atol: 2e-5, rtol: 2e-5 };

const SHAPES = [
  { rows: 1, inFeatures: 64, outFeatures: 65 },
  { rows: 3, inFeatures: 96, outFeatures: 1 },
  { rows: 37, inFeatures: 200, outFeatures: 130 },
  { rows: 1, inFeatures: 200, outFeatures: 130 },
  { rows: 70, inFeatures: 64, outFeatures: 65 },
];

describe('encodeMatmul', () => {
  for (const dtype of WEIGHT_DTYPES) {
    for (const { rows, inFeatures, outFeatures } of SHAPES) {
      for (const withBias of [false, true]) {
        it(`multiplies [${rows}, ${inFeatures}] by ${dtype} [${outFeatures}, ${inFeatures}]${withBias ? ' with bias' : ''}`, async () => {
          const runtime = await gpuRuntime();
          if (!runtime) return;
          const random = new Random(rows * 7 + inFeatures * 13 + outFeatures + (withBias ? 1 : 0));
          const xValues = random.normals(rows * inFeatures);
          const weight = uploadWeight(runtime, 'weight', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), dtype);
          const bias = withBias ? uploadWeight(runtime, 'bias', [outFeatures], random.normals(outFeatures), dtype) : undefined;
          const x = runtime.allocator.createTensorFrom('x', [rows, inFeatures], 'f32', xValues);
          const out = runtime.allocator.createTensor('out', [rows, outFeatures], 'f32');

          const batch = new ComputeBatch(runtime, 'matmul');
          encodeMatmul(batch, { x, weight: weight.tensor, bias: bias?.tensor, out });
          await batch.submit();

          const ref = matmulReference(xValues, weight.decoded, bias?.decoded, rows, inFeatures, outFeatures);
          expectClose(`matmul ${dtype}`, await readF32(runtime.device, out), ref, MATMUL_TOLERANCE);
        });
      }
    }
  }

  for (const rows of [1, 37]) {
    it(`multiplies ${rows} rows by a row-split bf16 weight`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(99 + rows);
      const [inFeatures, outFeatures] = [96, 301];
      const xValues = random.normals(rows * inFeatures);
      // 40 rows of 192 bytes per part: 8 parts, the last one short, none a multiple of the tile.
      const weight = uploadWeight(runtime, 'lm_head', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), 'bf16', 40 * inFeatures * 2);
      expect(weight.tensor.parts.length).toBe(8);
      const bias = uploadWeight(runtime, 'bias', [outFeatures], random.normals(outFeatures), 'bf16');
      const x = runtime.allocator.createTensorFrom('x', [rows, inFeatures], 'f32', xValues);
      const out = runtime.allocator.createTensor('out', [rows, outFeatures], 'f32');

      const batch = new ComputeBatch(runtime, 'matmul');
      encodeMatmul(batch, { x, weight: weight.tensor, bias: bias.tensor, out });
      await batch.submit();

      const ref = matmulReference(xValues, weight.decoded, bias.decoded, rows, inFeatures, outFeatures);
      expectClose('row-split matmul', await readF32(runtime.device, out), ref, MATMUL_TOLERANCE);
    });
  }

  it('uses only the first rows of x', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(5);
    const [capacity, rows, inFeatures, outFeatures] = [8, 3, 64, 65];
    const xValues = random.normals(capacity * inFeatures);
    const weight = uploadWeight(runtime, 'weight', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), 'f16');
    const x = runtime.allocator.createTensorFrom('x', [capacity, inFeatures], 'f32', xValues);
    const sentinel = new Float32Array(capacity * outFeatures).fill(-7);
    const out = runtime.allocator.createTensorFrom('out', [capacity, outFeatures], 'f32', sentinel);

    const batch = new ComputeBatch(runtime, 'matmul');
    encodeMatmul(batch, { x, weight: weight.tensor, out, rows });
    await batch.submit();

    const got = await readF32(runtime.device, out);
    const ref = matmulReference(xValues, weight.decoded, undefined, rows, inFeatures, outFeatures);
    expectClose('first rows', got.subarray(0, rows * outFeatures), ref, MATMUL_TOLERANCE);
    // Rows past `rows` keep their old contents.
    expectClose('untouched rows', got.subarray(rows * outFeatures), sentinel.subarray(rows * outFeatures), { atol: 0, rtol: 0 });
  });

  it('rejects x with the wrong inner size', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const x = runtime.allocator.createTensor('x', [2, 63], 'f32');
    const weight = runtime.allocator.createTensor('weight', [5, 64], 'bf16');
    const out = runtime.allocator.createTensor('out', [2, 5], 'f32');
    const batch = new ComputeBatch(runtime, 'matmul');
    expect(() => encodeMatmul(batch, { x, weight, out })).toThrow('encodeMatmul: x has shape [2, 63], expected [T, 64]');
  });
});
