import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { readF32, readU32 } from '../gpu/buffers';
import { ComputeBatch, type GpuRuntime } from '../gpu/dispatch';
import { ANCHOR_SELECT_BLOCK, anchorChunkPlan, encodeAnchorPrefill } from './anchor';
import { anchorInitCount } from './anchorPlan';
import { encodeDensePrefillAttention } from './dense';
import { encodeKvWrite } from './kvWrite';
import { anchorAttentionReference, denseAttentionReference } from './reference';
import { randomInputs, roundToCache, sliceRows, type AttentionInputs } from './testInputs';
import { createCache, destroyCache } from './testKit';
import { groupSize, type AnchorParams, type AttentionShape } from './types';

// f32 online softmax against the f64 reference over at most a few dozen keys of O(1) values.
const F32_ATTENTION = { atol: 1e-4, rtol: 1e-4 };
// f32 dot products and means against f64: candidate scores of magnitude ~10 agree to ~1e-5.
const SCORE_TOLERANCE = 1e-3;

interface GpuGroup {
  plan: 'anchor' | 'dense';
  /** Per head: the selected keys, as the GPU listed them. */
  selected: Int32Array[];
  /** Per head: candidate scores of keys candidateStart .. candidateEnd - 1. */
  scores: Float32Array[];
}

/** Runs the prompt chunk by chunk as the model does: append the chunk's K/V, then attend. */
async function runPrompt(
  runtime: GpuRuntime,
  inputs: AttentionInputs,
  N: number,
  shape: AttentionShape,
  params: AnchorParams,
  dtype: 'f32' | 'f16',
): Promise<{ out: Float32Array; groups: GpuGroup[] }> {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const G = groupSize(params);
  const cache = createCache(runtime, shape, N, dtype);
  const out = new Float32Array(N * H * D);
  const groups: GpuGroup[] = [];
  for (let start = 0; start < N; start += G) {
    const end = Math.min(N, start + G);
    const rows = end - start;
    const k = runtime.allocator.createTensorFrom('k', [rows, Hkv, D], 'f32', sliceRows(inputs.k, start, end, Hkv * D));
    const v = runtime.allocator.createTensorFrom('v', [rows, Hkv, D], 'f32', sliceRows(inputs.v, start, end, Hkv * D));
    const q = runtime.allocator.createTensorFrom('q', [rows, H, D], 'f32', sliceRows(inputs.q, start, end, H * D));
    const chunkOut = runtime.allocator.createTensor('out', [rows, H, D], 'f32');
    const batch = new ComputeBatch(runtime, `chunk at ${start}`);
    encodeKvWrite(batch, { k, v, cache, start, rows });
    const plan = anchorChunkPlan(start, rows, N, params);
    if (plan === 'anchor') {
      const result = encodeAnchorPrefill(batch, { q, cache, start, rows, shape, params, out: chunkOut, timing: { select: 'select', sparse: 'sparse' } });
      await batch.submit();
      const C = result.maxCandidates;
      const counts = await readU32(runtime.device, result.counts);
      const indices = await readU32(runtime.device, result.indices, H * C);
      const scores = await readF32(runtime.device, result.scores, H * C);
      groups.push({
        plan,
        selected: Array.from({ length: H }, (_, h) => Int32Array.from(indices.subarray(h * C, h * C + counts[h]))),
        scores: Array.from({ length: H }, (_, h) => scores.slice(h * C, (h + 1) * C)),
      });
      result.dispose();
    } else {
      encodeDensePrefillAttention(batch, { q, cache, start, rows, shape, out: chunkOut });
      await batch.submit();
      groups.push({ plan, selected: [], scores: [] });
    }
    out.set(await readF32(runtime.device, chunkOut), start * H * D);
    for (const tensor of [k, v, q, chunkOut]) runtime.allocator.destroyTensor(tensor);
  }
  await runtime.profiler?.read();
  destroyCache(runtime, cache);
  return { out, groups };
}

interface Case {
  name: string;
  N: number;
  shape: AttentionShape;
  params: AnchorParams;
  dtype: 'f32' | 'f16';
  /** The selection must keep some candidates and drop others. */
  partial: boolean;
  /** Keys per KV head that every query leans towards (3 unless set). */
  heavyKeys?: number;
  /** Some (group, head) must have stripes in two or more select blocks. */
  multiBlock?: boolean;
}

const base: AnchorParams = { blockSize: 4, step: 2, theta: 3, initGroups: 1, localGroups: 1, denseLastGroup: false };
const cases: Case[] = [
  { name: 'N < 2G with a dense tail', N: 12, shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, params: base, dtype: 'f32', partial: false },
  { name: 'N a multiple of G, f16 cache', N: 40, shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, params: base, dtype: 'f16', partial: true },
  {
    name: 'N = 4G + 1, G 16, D 128',
    N: 65,
    shape: { numHeads: 2, numKvHeads: 1, headDim: 128 },
    params: { ...base, blockSize: 8, theta: 4 },
    dtype: 'f32',
    partial: true,
  },
  {
    name: 'N = 5G + 1, local 2, D 128, f16',
    N: 41,
    shape: { numHeads: 4, numKvHeads: 2, headDim: 128 },
    params: { ...base, localGroups: 2, theta: 2.5 },
    dtype: 'f16',
    partial: true,
  },
  {
    name: 'init 2, local 2, GQA ratio 4',
    N: 50,
    shape: { numHeads: 4, numKvHeads: 1, headDim: 64 },
    params: { ...base, initGroups: 2, localGroups: 2 },
    dtype: 'f32',
    partial: true,
  },
  {
    name: 'init 2 covering every group of 16',
    N: 49,
    shape: { numHeads: 2, numKvHeads: 1, headDim: 128 },
    params: { ...base, blockSize: 8, initGroups: 2, theta: 4 },
    dtype: 'f16',
    partial: false,
  },
  {
    // G = 32 spans two row tiles, and group 4 has 96 candidates with stripes in both select blocks,
    // so the compaction's block offsets matter.
    name: 'candidates across select blocks',
    N: 161,
    shape: { numHeads: 2, numKvHeads: 1, headDim: 64 },
    params: { ...base, blockSize: 8, step: 4 },
    dtype: 'f16',
    partial: true,
    heavyKeys: 6,
    multiBlock: true,
  },
  { name: 'dense last group', N: 32, shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, params: { ...base, denseLastGroup: true }, dtype: 'f32', partial: true },
];

describe(`encodeAnchorPrefill (${driverName()})`, () => {
  for (const testCase of cases) {
    it(`matches reference: ${testCase.name}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const { N, shape, params, dtype } = testCase;
      const H = shape.numHeads;
      const inputs = randomInputs(31, N, shape, { std: 1.3, heavyKeys: testCase.heavyKeys ?? 3, bias: 2 });
      const k = roundToCache(inputs.k, dtype);
      const v = roundToCache(inputs.v, dtype);
      const gpu = await runPrompt(runtime, inputs, N, shape, params, dtype);
      // The GPU's own lists drive the expected output, so a key that flips at the threshold
      // changes both sides alike. The lists themselves are checked against the rule below.
      const reference = anchorAttentionReference(inputs.q, k, v, N, shape, params, {
        stripes: (group, head) => gpu.groups[group]?.selected[head],
      });
      const ruleOnly = anchorAttentionReference(inputs.q, k, v, N, shape, params);

      expect(gpu.groups.map((group) => group.plan)).toEqual(reference.plans);
      let candidates = 0;
      let selected = 0;
      let borderline = 0;
      let maxBlocksWithStripes = 0;
      gpu.groups.forEach((group, g) => {
        const region = reference.anchorRegion[g];
        if (group.plan === 'dense' || !region) return;
        for (let h = 0; h < H; h++) {
          const list = group.selected[h];
          const refScores = ruleOnly.candidateScores[g][h];
          // Every key in the gap between the regions is a candidate with a score on both sides.
          expect(group.scores[h].length).toBe(region.candidateEnd - region.candidateStart);
          expect(refScores.length).toBe(region.candidateEnd - region.candidateStart);
          expectClose(`scores g${g} h${h}`, group.scores[h], refScores, { atol: SCORE_TOLERANCE, rtol: 0 });
          // Sorted, strictly inside the gap, and never in the anchor region.
          for (let i = 0; i < list.length; i++) {
            expect(list[i]).toBeGreaterThanOrEqual(region.candidateStart);
            expect(list[i]).toBeLessThan(region.candidateEnd);
            if (i > 0) expect(list[i]).toBeGreaterThan(list[i - 1]);
            const inAnchorRegion = list[i] < anchorInitCount(region) || list[i] >= region.localStart;
            expect(inAnchorRegion, `stripe ${list[i]} of group ${g}, head ${h}`).toBe(false);
          }
          // Selected exactly when the GPU's own score passes −theta in f32.
          const listed = new Set(list);
          group.scores[h].forEach((score, c) => {
            expect(listed.has(region.candidateStart + c)).toBe(score >= Math.fround(-params.theta));
          });
          // Same set as the reference's rule, except keys within float tolerance of −theta.
          const ruleSet = new Set(ruleOnly.selected[g][h]);
          for (let c = 0; c < refScores.length; c++) {
            const key = region.candidateStart + c;
            if (listed.has(key) === ruleSet.has(key)) continue;
            expect(Math.abs(refScores[c] + params.theta), `key ${key} of group ${g}, head ${h} differs away from the threshold`).toBeLessThan(
              SCORE_TOLERANCE,
            );
            borderline++;
          }
          candidates += refScores.length;
          selected += list.length;
          const blocks = new Set(Array.from(list, (key) => Math.floor((key - region.candidateStart) / ANCHOR_SELECT_BLOCK)));
          maxBlocksWithStripes = Math.max(maxBlocksWithStripes, blocks.size);
        }
      });
      console.log(`${testCase.name}: ${selected} of ${candidates} candidates selected, ${borderline} at the threshold`);
      if (testCase.multiBlock) expect(maxBlocksWithStripes).toBeGreaterThanOrEqual(2);
      if (testCase.partial) {
        expect(selected).toBeGreaterThan(0);
        expect(selected).toBeLessThan(candidates);
      }
      expectClose(`anchor out (${testCase.name})`, gpu.out, reference.out, F32_ATTENTION);
    });
  }

  it('equals dense attention when theta is infinite', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 4, numKvHeads: 2, headDim: 64 };
    const N = 37;
    const params = { ...base, theta: Infinity };
    const inputs = randomInputs(41, N, shape, { std: 1.3, heavyKeys: 3, bias: 2 });
    const gpu = await runPrompt(runtime, inputs, N, shape, params, 'f32');
    // Every candidate is selected, so every row attends all its causal keys.
    gpu.groups.forEach((group, g) => {
      if (group.plan === 'dense') return;
      group.selected.forEach((list, h) => expect(list.length, `group ${g}, head ${h}`).toBe(group.scores[h].length));
    });
    expect(gpu.groups.some((group) => group.selected.some((list) => list.length > 0))).toBe(true);
    expectClose('anchor with theta = Infinity', gpu.out, denseAttentionReference(inputs.q, inputs.k, inputs.v, N, shape), F32_ATTENTION);
  });

  it('rejects a chunk that is not one aligned group', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 2, numKvHeads: 1, headDim: 8 };
    const cache = createCache(runtime, shape, 32, 'f32');
    const q = runtime.allocator.createTensor('q', [8, 2, 8], 'f32');
    const batch = new ComputeBatch(runtime, 'anchor bad chunk');
    expect(() => encodeAnchorPrefill(batch, { q, cache, start: 4, rows: 8, shape, params: base, out: q })).toThrow(
      /one whole group of G = 8 rows at a multiple of G, got rows 8 at start 4/,
    );
    expect(() => encodeAnchorPrefill(batch, { q, cache, start: 8, rows: 5, shape, params: base, out: q })).toThrow(/got rows 5 at start 8/);
    runtime.allocator.destroyTensor(q);
    destroyCache(runtime, cache);
  });
});
