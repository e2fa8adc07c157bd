import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { ComputeBatch } from '../gpu/dispatch';
import { encodeKvWrite } from './kvWrite';
import { randomInputs, roundToCache, sliceRows } from './testInputs';
import { createCache, destroyCache, readCacheTensor } from './testKit';
import type { AttentionShape } from './types';

const cases: { shape: AttentionShape; dtype: 'f32' | 'f16' }[] = [
  { shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f32' },
  { shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f16' },
  { shape: { numHeads: 2, numKvHeads: 1, headDim: 128 }, dtype: 'f16' },
  { shape: { numHeads: 3, numKvHeads: 3, headDim: 6 }, dtype: 'f32' },
];

describe(`encodeKvWrite (${driverName()})`, () => {
  for (const { shape, dtype } of cases) {
    it(`appends chunks to a ${dtype} cache, Hkv ${shape.numKvHeads}, D ${shape.headDim}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const { numKvHeads: Hkv, headDim: D } = shape;
      const capacity = 29;
      const N = 23;
      const { k, v } = randomInputs(7, N, shape);
      const cache = createCache(runtime, shape, capacity, dtype);
      // Chunks of 10, 1 and 12 rows; the 12-row chunk comes from a 13-row tensor whose last row must not land.
      const chunks = [
        [0, 10],
        [10, 11],
        [11, 23],
      ];
      for (const [start, end] of chunks) {
        const rows = end - start;
        const padded = new Float32Array((rows + 1) * Hkv * D).fill(99);
        const kChunk = padded.slice();
        kChunk.set(sliceRows(k, start, end, Hkv * D));
        const vChunk = padded.slice();
        vChunk.set(sliceRows(v, start, end, Hkv * D));
        const kTensor = runtime.allocator.createTensorFrom('k', [rows + 1, Hkv, D], 'f32', kChunk);
        const vTensor = runtime.allocator.createTensorFrom('v', [rows + 1, Hkv, D], 'f32', vChunk);
        const batch = new ComputeBatch(runtime, 'kv write');
        encodeKvWrite(batch, { k: kTensor, v: vTensor, cache, start, rows });
        await batch.submit();
        runtime.allocator.destroyTensor(kTensor);
        runtime.allocator.destroyTensor(vTensor);
      }

      // Expected: [Hkv, capacity, D] with rows past N still zero.
      const expectedK = new Float32Array(Hkv * capacity * D);
      const expectedV = new Float32Array(Hkv * capacity * D);
      for (let j = 0; j < N; j++) {
        for (let h = 0; h < Hkv; h++) {
          for (let d = 0; d < D; d++) {
            expectedK[(h * capacity + j) * D + d] = k[(j * Hkv + h) * D + d];
            expectedV[(h * capacity + j) * D + d] = v[(j * Hkv + h) * D + d];
          }
        }
      }
      // The conversion is exact: f32 copies bits, f16 rounds to nearest even as f32ToF16 does.
      const exact = { atol: 0, rtol: 0 };
      expectClose('cache.k', await readCacheTensor(runtime, cache, cache.k), roundToCache(expectedK, dtype), exact);
      expectClose('cache.v', await readCacheTensor(runtime, cache, cache.v), roundToCache(expectedV, dtype), exact);
      destroyCache(runtime, cache);
    });
  }

  it('rejects rows past the capacity', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 2, numKvHeads: 1, headDim: 8 };
    const cache = createCache(runtime, shape, 8, 'f32');
    const k = runtime.allocator.createTensor('k', [3, 1, 8], 'f32');
    const batch = new ComputeBatch(runtime, 'kv write overflow');
    expect(() => encodeKvWrite(batch, { k, v: k, cache, start: 6, rows: 3 })).toThrow(/do not fit the KV cache of capacity 8/);
    expect(() => encodeKvWrite(batch, { k, v: k, cache, start: 0, rows: 4 })).toThrow(/k \("k"\) must be \[T >= 4, 1, 8\] f32/);
    runtime.allocator.destroyTensor(k);
    destroyCache(runtime, cache);
  });
});
