import { describe, expect, it } from 'vitest';
import { expectClose, relativeL2 } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { readF32 } from '../gpu/buffers';
import { ComputeBatch } from '../gpu/dispatch';
import { encodeDensePrefillAttention } from './dense';
import { encodeKvWrite } from './kvWrite';
import { denseAttentionReference } from './reference';
import { randomInputs, roundToCache, sliceRows } from './testInputs';
import { createCache, destroyCache } from './testKit';
import type { AttentionShape } from './types';

// f32 online softmax against the f64 reference over at most 45 keys of O(1) values.
const F32_ATTENTION = { atol: 1e-4, rtol: 1e-4 };

const cases: { shape: AttentionShape; dtype: 'f32' | 'f16' }[] = [
  { shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f32' },
  { shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f16' },
  { shape: { numHeads: 2, numKvHeads: 1, headDim: 128 }, dtype: 'f16' },
  { shape: { numHeads: 2, numKvHeads: 1, headDim: 128 }, dtype: 'f32' },
  // An even head dimension that is not a multiple of the lanes' pair stride.
  { shape: { numHeads: 3, numKvHeads: 1, headDim: 18 }, dtype: 'f32' },
];

describe(`encodeDensePrefillAttention (${driverName()})`, () => {
  for (const { shape, dtype } of cases) {
    it(`matches reference over chunks, H ${shape.numHeads}/${shape.numKvHeads}, D ${shape.headDim}, ${dtype} cache`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
      const N = 45;
      const inputs = randomInputs(11, N, shape, { std: 1.2 });
      const k = roundToCache(inputs.k, dtype);
      const v = roundToCache(inputs.v, dtype);
      const expected = denseAttentionReference(inputs.q, k, v, N, shape);

      const cache = createCache(runtime, shape, N + 3, dtype);
      // Chunks of 19, 1 and 25 rows: none a multiple of the 16-row tile, and later ones start past 0.
      const chunks = [
        [0, 19],
        [19, 20],
        [20, 45],
      ];
      const got = new Float32Array(N * H * D);
      for (const [start, end] of chunks) {
        const rows = end - start;
        const kTensor = runtime.allocator.createTensorFrom('k', [rows, Hkv, D], 'f32', sliceRows(inputs.k, start, end, Hkv * D));
        const vTensor = runtime.allocator.createTensorFrom('v', [rows, Hkv, D], 'f32', sliceRows(inputs.v, start, end, Hkv * D));
        const q = runtime.allocator.createTensorFrom('q', [rows, H, D], 'f32', sliceRows(inputs.q, start, end, H * D));
        const out = runtime.allocator.createTensor('out', [rows, H, D], 'f32');
        const batch = new ComputeBatch(runtime, 'dense prefill');
        encodeKvWrite(batch, { k: kTensor, v: vTensor, cache, start, rows });
        encodeDensePrefillAttention(batch, { q, cache, start, rows, shape, out });
        await batch.submit();
        got.set(await readF32(runtime.device, out), start * H * D);
        for (const tensor of [kTensor, vTensor, q, out]) runtime.allocator.destroyTensor(tensor);
      }
      expectClose(`dense ${dtype} D${D}`, got, expected, F32_ATTENTION);
      expect(relativeL2(got, expected)).toBeLessThan(1e-5);
      destroyCache(runtime, cache);
    });
  }

  it('rejects a query tensor of the wrong shape', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 4, numKvHeads: 2, headDim: 64 };
    const cache = createCache(runtime, shape, 8, 'f32');
    const q = runtime.allocator.createTensor('q', [4, 2, 64], 'f32');
    const batch = new ComputeBatch(runtime, 'dense bad shape');
    expect(() => encodeDensePrefillAttention(batch, { q, cache, start: 0, rows: 4, shape, out: q })).toThrow(
      /encodeDensePrefillAttention: q \("q"\) must be \[T >= 4, 4, 64\] f32, got \[4, 2, 64\] f32/,
    );
    expect(() => encodeDensePrefillAttention(batch, { q, cache, start: 6, rows: 4, shape, out: q })).toThrow(/past the KV cache capacity 8/);
    runtime.allocator.destroyTensor(q);
    destroyCache(runtime, cache);
  });
});
