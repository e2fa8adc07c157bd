import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { readF32 } from '../gpu/buffers';
import { ComputeBatch } from '../gpu/dispatch';
import { encodeDecodeAttention } from './decode';
import { encodeKvWrite } from './kvWrite';
import { denseAttentionReference } from './reference';
import { randomInputs, roundToCache, sliceRows } from './testInputs';
import { createCache, destroyCache } from './testKit';
import type { AttentionShape } from './types';

// f32 online softmax against the f64 reference over at most 150 keys of O(1) values.
const F32_ATTENTION = { atol: 1e-4, rtol: 1e-4 };

const cases: { shape: AttentionShape; dtype: 'f32' | 'f16' }[] = [
  { shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f32' },
  { shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f16' },
  { shape: { numHeads: 2, numKvHeads: 1, headDim: 128 }, dtype: 'f16' },
  { shape: { numHeads: 3, numKvHeads: 1, headDim: 18 }, dtype: 'f32' },
];

describe(`encodeDecodeAttention (${driverName()})`, () => {
  for (const { shape, dtype } of cases) {
    it(`matches reference, H ${shape.numHeads}/${shape.numKvHeads}, D ${shape.headDim}, ${dtype} cache`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
      const N = 150;
      const inputs = randomInputs(23, N, shape, { std: 1.2 });
      const k = roundToCache(inputs.k, dtype);
      const v = roundToCache(inputs.v, dtype);
      const cache = createCache(runtime, shape, N + 5, dtype);
      const kTensor = runtime.allocator.createTensorFrom('k', [N, Hkv, D], 'f32', inputs.k);
      const vTensor = runtime.allocator.createTensorFrom('v', [N, Hkv, D], 'f32', inputs.v);
      const fill = new ComputeBatch(runtime, 'fill cache');
      encodeKvWrite(fill, { k: kTensor, v: vTensor, cache, start: 0, rows: N });
      await fill.submit();

      // One key, a partial first tile, exactly two tiles of 64, and two tiles plus 22 keys.
      for (const length of [1, 37, 128, N]) {
        const row = length - 1;
        const q = runtime.allocator.createTensorFrom('q', [1, H, D], 'f32', sliceRows(inputs.q, row, row + 1, H * D));
        const out = runtime.allocator.createTensor('out', [1, H, D], 'f32');
        const batch = new ComputeBatch(runtime, 'decode');
        encodeDecodeAttention(batch, { q, cache, length, shape, out });
        await batch.submit();
        // Row `row` of causal attention over the first `length` tokens is exactly this decode step.
        const expected = sliceRows(denseAttentionReference(inputs.q, k, v, length, shape), row, row + 1, H * D);
        expectClose(`decode ${dtype} D${D} length ${length}`, await readF32(runtime.device, out), expected, F32_ATTENTION);
        runtime.allocator.destroyTensor(q);
        runtime.allocator.destroyTensor(out);
      }
      runtime.allocator.destroyTensor(kTensor);
      runtime.allocator.destroyTensor(vTensor);
      destroyCache(runtime, cache);
    });
  }

  it('rejects a length past the capacity', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 2, numKvHeads: 1, headDim: 8 };
    const cache = createCache(runtime, shape, 8, 'f32');
    const q = runtime.allocator.createTensor('q', [1, 2, 8], 'f32');
    const batch = new ComputeBatch(runtime, 'decode bad length');
    expect(() => encodeDecodeAttention(batch, { q, cache, length: 9, shape, out: q })).toThrow(/length must be an integer from 1 to 8, got 9/);
    expect(() => encodeDecodeAttention(batch, { q, cache, length: 0, shape, out: q })).toThrow(/length must be an integer from 1 to 8, got 0/);
    runtime.allocator.destroyTensor(q);
    destroyCache(runtime, cache);
  });
});
