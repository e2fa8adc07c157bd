import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { readF32, readU32, type Tensor } from '../gpu/buffers';
import { ComputeBatch, type GpuRuntime } from '../gpu/dispatch';
import { encodeAnchorPrefill } from './anchor';
import { encodeDensePrefillAttention } from './dense';
import { encodeKvWrite } from './kvWrite';
import { randomInputs, sliceRows } from './testInputs';
import { createCache, destroyCache } from './testKit';
import type { AnchorParams, AttentionShape, LayerKvCache } from './types';

// A head range runs the same kernel on the same data, so every value must match bit for bit.
const SAME_BITS = { atol: 0, rtol: 0 };
// Marks output elements a run must leave untouched.
const SENTINEL = 12345;

const shape: AttentionShape = { numHeads: 4, numKvHeads: 2, headDim: 64 };
const N = 41;
const params: AnchorParams = { blockSize: 4, step: 2, theta: 2.5, initGroups: 1, localGroups: 1, denseLastGroup: false };

async function filledCache(runtime: GpuRuntime, dtype: 'f32' | 'f16'): Promise<{ cache: LayerKvCache; q: Float32Array }> {
  const { numKvHeads: Hkv, headDim: D } = shape;
  const inputs = randomInputs(77, N, shape, { std: 1.3, heavyKeys: 3, bias: 2 });
  const cache = createCache(runtime, shape, N, dtype);
  const k = runtime.allocator.createTensorFrom('k', [N, Hkv, D], 'f32', inputs.k);
  const v = runtime.allocator.createTensorFrom('v', [N, Hkv, D], 'f32', inputs.v);
  const batch = new ComputeBatch(runtime, 'fill cache');
  encodeKvWrite(batch, { k, v, cache, start: 0, rows: N });
  await batch.submit();
  runtime.allocator.destroyTensor(k);
  runtime.allocator.destroyTensor(v);
  return { cache, q: inputs.q };
}

function sentinelTensor(runtime: GpuRuntime, label: string, rows: number): Tensor {
  const { numHeads: H, headDim: D } = shape;
  return runtime.allocator.createTensorFrom(label, [rows, H, D], 'f32', new Float32Array(rows * H * D).fill(SENTINEL));
}

/** Elements of head h in a [rows, H, D] array. */
function headValues(data: Float32Array, rows: number, h: number): Float32Array {
  const { numHeads: H, headDim: D } = shape;
  const values = new Float32Array(rows * D);
  for (let r = 0; r < rows; r++) values.set(data.subarray((r * H + h) * D, (r * H + h + 1) * D), r * D);
  return values;
}

describe(`attention head ranges (${driverName()})`, () => {
  it('dense per-head runs equal the all-heads run', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const { numHeads: H, headDim: D } = shape;
    const { cache, q: qAll } = await filledCache(runtime, 'f16');
    // An unaligned chunk: rows 13 .. 35.
    const start = 13;
    const rows = 23;
    const q = runtime.allocator.createTensorFrom('q', [rows, H, D], 'f32', sliceRows(qAll, start, start + rows, H * D));
    const whole = sentinelTensor(runtime, 'whole', rows);
    const perHead = sentinelTensor(runtime, 'per head', rows);
    const partial = sentinelTensor(runtime, 'partial', rows);
    const batch = new ComputeBatch(runtime, 'dense head ranges');
    encodeDensePrefillAttention(batch, { q, cache, start, rows, shape, out: whole });
    for (let h = 0; h < H; h++) encodeDensePrefillAttention(batch, { q, cache, start, rows, shape, out: perHead, headStart: h, headCount: 1 });
    encodeDensePrefillAttention(batch, { q, cache, start, rows, shape, out: partial, headStart: 1, headCount: 2 });
    await batch.submit();

    const wholeOut = await readF32(runtime.device, whole);
    expectClose('dense per head', await readF32(runtime.device, perHead), wholeOut, SAME_BITS);
    const partialOut = await readF32(runtime.device, partial);
    for (let h = 0; h < H; h++) {
      const expected = h === 1 || h === 2 ? headValues(wholeOut, rows, h) : new Float32Array(rows * D).fill(SENTINEL);
      expectClose(`dense heads 1..2, head ${h}`, headValues(partialOut, rows, h), expected, SAME_BITS);
    }
    [q, whole, perHead, partial].forEach((tensor) => runtime.allocator.destroyTensor(tensor));
    destroyCache(runtime, cache);
  });

  for (const dtype of ['f32', 'f16'] as const) {
    it(`anchor per-head runs equal the all-heads run, ${dtype} cache`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const { numHeads: H, headDim: D } = shape;
      const { cache, q: qAll } = await filledCache(runtime, dtype);
      const G = params.blockSize * params.step;
      // Group 3 has candidates between the init group and its own group.
      const start = 3 * G;
      const q = runtime.allocator.createTensorFrom('q', [G, H, D], 'f32', sliceRows(qAll, start, start + G, H * D));
      const whole = sentinelTensor(runtime, 'whole', G);
      const perHead = sentinelTensor(runtime, 'per head', G);
      const batch = new ComputeBatch(runtime, 'anchor head ranges');
      const all = encodeAnchorPrefill(batch, { q, cache, start, rows: G, shape, params, out: whole });
      const single = Array.from({ length: H }, (_, h) =>
        encodeAnchorPrefill(batch, { q, cache, start, rows: G, shape, params, out: perHead, headStart: h, headCount: 1 }),
      );
      await batch.submit();

      expectClose('anchor per head', await readF32(runtime.device, perHead), await readF32(runtime.device, whole), SAME_BITS);
      const C = all.maxCandidates;
      expect(C).toBeGreaterThan(0);
      const counts = await readU32(runtime.device, all.counts);
      const indices = await readU32(runtime.device, all.indices, H * C);
      let selected = 0;
      for (let h = 0; h < H; h++) {
        expect(single[h].headStart).toBe(h);
        expect(single[h].headCount).toBe(1);
        const count = (await readU32(runtime.device, single[h].counts))[0];
        expect(count, `stripes of head ${h}`).toBe(counts[h]);
        const list = await readU32(runtime.device, single[h].indices, C);
        expect(Array.from(list.subarray(0, count))).toEqual(Array.from(indices.subarray(h * C, h * C + count)));
        selected += count;
      }
      // Some but not all candidates are kept, so the lists compared above carry information.
      expect(selected).toBeGreaterThan(0);
      expect(selected).toBeLessThan(H * C);
      [all, ...single].forEach((result) => result.dispose());
      [q, whole, perHead].forEach((tensor) => runtime.allocator.destroyTensor(tensor));
      destroyCache(runtime, cache);
    });
  }

  it('rejects a head range outside the heads', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const { numHeads: H, headDim: D } = shape;
    const cache = createCache(runtime, shape, 16, 'f32');
    const q = runtime.allocator.createTensor('q', [8, H, D], 'f32');
    const batch = new ComputeBatch(runtime, 'bad head range');
    expect(() => encodeDensePrefillAttention(batch, { q, cache, start: 0, rows: 8, shape, out: q, headStart: 3, headCount: 2 })).toThrow(
      /encodeDensePrefillAttention: headCount must be an integer from 0 to 1, got 2/,
    );
    expect(() => encodeAnchorPrefill(batch, { q, cache, start: 0, rows: 8, shape, params, out: q, headStart: 5 })).toThrow(
      /encodeAnchorPrefill: headStart must be an integer from 0 to 4, got 5/,
    );
    runtime.allocator.destroyTensor(q);
    destroyCache(runtime, cache);
  });
});
