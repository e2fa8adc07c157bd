import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { readF32, readU32 } from '../gpu/buffers';
import { ComputeBatch, type GpuRuntime } from '../gpu/dispatch';
import { encodeAnchorPrefill } from './anchor';
import { encodeKvWrite } from './kvWrite';
import { attentionRecall } from './metrics';
import { encodeAnchorRecall } from './recall';
import { anchorRecallReference } from './recall.ref';
import { anchorAttentionReference } from './reference';
import { randomInputs, roundToCache, sliceRows } from './testInputs';
import { createCache, destroyCache } from './testKit';
import { groupSize, type AnchorParams, type AttentionShape } from './types';

// f32 scores and exp sums over at most 61 keys against f64: masses agree to ~1e-6.
const RECALL_TOLERANCE = { atol: 2e-5, rtol: 0 };

const base: AnchorParams = { blockSize: 4, step: 2, theta: 2.5, initGroups: 1, localGroups: 1, denseLastGroup: false };

interface Case {
  name: string;
  shape: AttentionShape;
  params: AnchorParams;
  dtype: 'f32' | 'f16';
  group: number;
  /** Sampled rows as offsets inside the group. */
  offsets: number[];
  /** Some sampled row must lose mass, so the comparison sees values below 1. */
  lossy: boolean;
}

const N = 61;
const cases: Case[] = [
  { name: 'group 5, GQA 2, f32', shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, params: base, dtype: 'f32', group: 5, offsets: [0, 3, 7], lossy: true },
  { name: 'group 6, D 18, f16', shape: { numHeads: 3, numKvHeads: 1, headDim: 18 }, params: base, dtype: 'f16', group: 6, offsets: [1, 2, 5, 6], lossy: true },
  { name: 'no candidates (group 1)', shape: { numHeads: 2, numKvHeads: 1, headDim: 64 }, params: base, dtype: 'f32', group: 1, offsets: [4], lossy: false },
  { name: 'theta infinite keeps all mass', shape: { numHeads: 2, numKvHeads: 2, headDim: 64 }, params: { ...base, theta: Infinity }, dtype: 'f32', group: 4, offsets: [0, 7], lossy: false },
];

async function runCase(runtime: GpuRuntime, testCase: Case) {
  const { shape, params, dtype, group } = testCase;
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const G = groupSize(params);
  const inputs = randomInputs(91, N, shape, { std: 1.3, heavyKeys: 3, bias: 2 });
  const cache = createCache(runtime, shape, N, dtype);
  const start = group * G;
  const rows = testCase.offsets.map((offset) => start + offset);
  const k = runtime.allocator.createTensorFrom('k', [N, Hkv, D], 'f32', inputs.k);
  const v = runtime.allocator.createTensorFrom('v', [N, Hkv, D], 'f32', inputs.v);
  const q = runtime.allocator.createTensorFrom('q', [G, H, D], 'f32', sliceRows(inputs.q, start, start + G, H * D));
  const qRowsData = new Float32Array(rows.length * H * D);
  rows.forEach((row, i) => qRowsData.set(inputs.q.subarray(row * H * D, (row + 1) * H * D), i * H * D));
  const qRows = runtime.allocator.createTensorFrom('q rows', [rows.length, H, D], 'f32', qRowsData);
  const positions = runtime.allocator.createTensorFrom('positions', [rows.length], 'u32', Uint32Array.from(rows));
  const out = runtime.allocator.createTensor('out', [G, H, D], 'f32');
  const recall = runtime.allocator.createTensor('recall', [rows.length, H], 'f32');

  const batch = new ComputeBatch(runtime, 'recall case');
  encodeKvWrite(batch, { k, v, cache, start: 0, rows: N });
  const result = encodeAnchorPrefill(batch, { q, cache, start, rows: G, shape, params, out });
  encodeAnchorRecall(batch, { qRows, positions, cache, shape, region: result.region, indices: result.indices, counts: result.counts, maxCandidates: result.maxCandidates, recall });
  await batch.submit();

  const C = result.maxCandidates;
  const counts = await readU32(runtime.device, result.counts);
  const indices = C > 0 ? await readU32(runtime.device, result.indices, H * C) : new Uint32Array(0);
  const stripes = Array.from({ length: H }, (_, h) => Int32Array.from(indices.subarray(h * C, h * C + counts[h])));
  const got = await readF32(runtime.device, recall);
  result.dispose();
  [k, v, q, qRows, positions, out, recall].forEach((tensor) => runtime.allocator.destroyTensor(tensor));
  destroyCache(runtime, cache);
  return { got, stripes, rows, region: result.region, kCache: roundToCache(inputs.k, dtype), inputs };
}

describe(`encodeAnchorRecall (${driverName()})`, () => {
  for (const testCase of cases) {
    it(`matches reference: ${testCase.name}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const { shape, params } = testCase;
      const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
      const { got, stripes, rows, region, kCache, inputs } = await runCase(runtime, testCase);
      const expected = anchorRecallReference(inputs.q, kCache, shape, region, stripes, rows);
      expectClose(`recall (${testCase.name})`, got, expected, RECALL_TOLERANCE);

      // The same numbers from metrics.attentionRecall over the reference's Selection of each head.
      const reference = anchorAttentionReference(inputs.q, kCache, inputs.v, N, shape, params, { stripes: (g, h) => (g === testCase.group ? stripes[h] : undefined) });
      for (let h = 0; h < H; h++) {
        const kvh = Math.floor(h / (H / Hkv));
        const qHead = new Float32Array(N * D);
        const kHead = new Float32Array(N * D);
        for (let r = 0; r < N; r++) {
          qHead.set(inputs.q.subarray((r * H + h) * D, (r * H + h + 1) * D), r * D);
          kHead.set(kCache.subarray((r * Hkv + kvh) * D, (r * Hkv + kvh + 1) * D), r * D);
        }
        const metrics = attentionRecall(qHead, kHead, N, D, reference.selection[h], rows);
        const gotHead = Float64Array.from(rows, (_, i) => got[i * H + h]);
        expectClose(`recall head ${h} vs attentionRecall`, gotHead, metrics.perRow, RECALL_TOLERANCE);
      }
      const lowest = Math.min(...got);
      if (testCase.lossy) expect(lowest).toBeLessThan(0.999);
      else expectClose(`recall of ${testCase.name}`, got, new Float32Array(got.length).fill(1), RECALL_TOLERANCE);
      console.log(`${testCase.name}: lowest recall ${lowest.toFixed(4)}`);
    });
  }

  it('rejects mismatched rows', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 2, numKvHeads: 1, headDim: 8 };
    const cache = createCache(runtime, shape, 16, 'f32');
    const qRows = runtime.allocator.createTensor('q rows', [3, 2, 8], 'f32');
    const positions = runtime.allocator.createTensor('positions', [2], 'u32');
    const counts = runtime.allocator.createTensor('counts', [2], 'u32');
    const recall = runtime.allocator.createTensor('recall', [2, 2], 'f32');
    const region = { group: 1, initEnd: 8, localStart: 8, candidateStart: 8, candidateEnd: 8 };
    const batch = new ComputeBatch(runtime, 'bad recall');
    expect(() => encodeAnchorRecall(batch, { qRows, positions, cache, shape, region, indices: counts, counts, maxCandidates: 1, recall })).toThrow(
      /encodeAnchorRecall: qRows \("q rows"\) must be \[2, 2, 8\] f32, got \[3, 2, 8\] f32/,
    );
    [qRows, positions, counts, recall].forEach((tensor) => runtime.allocator.destroyTensor(tensor));
    destroyCache(runtime, cache);
  });
});
