import { describe, expect, it } from 'vitest';
import { anchorChunkPlan, anchorRegion } from './anchorPlan';
import {
  anchorOnlyDensity,
  binnedShares,
  decodeStripes,
  encodeStripes,
  headPairs,
  relativeL2FromSums,
  stripeCount,
  summarizeRecall,
  type ChunkPlan,
} from './anchorStats';
import { attentionRecall, outputFidelity, sampleRows, selectionDensity } from './metrics';
import { anchorAttentionReference, denseAttentionReference } from './reference';
import { randomInputs } from './testInputs';
import { groupSize, type AnchorParams, type AttentionShape } from './types';
import { Random } from '../util/random';

const shape: AttentionShape = { numHeads: 3, numKvHeads: 1, headDim: 16 };
const base: AnchorParams = { blockSize: 3, step: 2, theta: 1.5, initGroups: 1, localGroups: 1, denseLastGroup: false };

function chunkPlans(N: number, params: AnchorParams): ChunkPlan[] {
  const G = groupSize(params);
  const chunks: ChunkPlan[] = [];
  for (let start = 0; start < N; start += G) {
    const rows = Math.min(G, N - start);
    const plan = anchorChunkPlan(start, rows, N, params);
    chunks.push({ start, rows, region: plan === 'anchor' ? anchorRegion(start / G, params) : null });
  }
  return chunks;
}

/** Extracts head h of an (N, H, D) or (N, Hkv, D) array as (N, D). */
function head(data: Float32Array, N: number, heads: number, h: number, D: number): Float32Array {
  const out = new Float32Array(N * D);
  for (let r = 0; r < N; r++) out.set(data.subarray((r * heads + h) * D, (r * heads + h + 1) * D), r * D);
  return out;
}

describe('anchor statistics', () => {
  const cases: { name: string; N: number; params: AnchorParams }[] = [
    { name: 'N 47 with a dense tail', N: 47, params: base },
    { name: 'N a multiple of G, local 2', N: 42, params: { ...base, localGroups: 2 } },
    { name: 'init 2, dense last group', N: 53, params: { ...base, initGroups: 2, denseLastGroup: true } },
  ];
  for (const { name, N, params } of cases) {
    it(`density equals selectionDensity: ${name}`, () => {
      const inputs = randomInputs(5, N, shape, { std: 1.2, heavyKeys: 4, bias: 2 });
      const reference = anchorAttentionReference(inputs.q, inputs.k, inputs.v, N, shape, params);
      const chunks = chunkPlans(N, params);
      const G = groupSize(params);
      let someStripes = false;
      for (let h = 0; h < shape.numHeads; h++) {
        const counts = chunks.map((_, g) => reference.selected[g][h].length);
        someStripes ||= counts.some((count) => count > 0);
        const perRowStripes = Array.from({ length: N }, (_, row) => reference.selected[Math.floor(row / G)][h].length);
        const expected = selectionDensity(reference.selection[h], perRowStripes);
        const pairs = headPairs(chunks, counts);
        expect(pairs.computedPairs, `head ${h} computed pairs`).toBe(expected.computedPairs);
        expect(pairs.stripePairs, `head ${h} stripe pairs`).toBe(expected.stripePairs);
        expect(pairs.causalPairs).toBe((N * (N + 1)) / 2);
        expect(pairs.computedPairs / pairs.causalPairs).toBeGreaterThanOrEqual(anchorOnlyDensity(chunks));
      }
      expect(someStripes).toBe(true);
    });
  }

  it('density of a prefill after a reused prefix covers its rows only', () => {
    const params = base;
    // Rows 12 .. 29: chunks at 12 (anchor, G = 6) .. and a dense tail.
    const chunks: ChunkPlan[] = [
      { start: 12, rows: 6, region: anchorRegion(2, params) },
      { start: 18, rows: 6, region: anchorRegion(3, params) },
      { start: 24, rows: 5, region: null },
    ];
    const pairs = headPairs(chunks, [2, 0, 99]);
    const causal = (29 * 30) / 2 - (12 * 13) / 2;
    expect(pairs.causalPairs).toBe(causal);
    // Group 2: init [0, 6) and local [12, r]; 2 stripes. Group 3: init and local [18, r].
    const group2 = 6 * 6 + 21 + 6 * 2;
    const group3 = 6 * 6 + 21;
    const tail = (29 * 30) / 2 - (24 * 25) / 2;
    expect(pairs.computedPairs).toBe(group2 + group3 + tail);
    expect(pairs.stripePairs).toBe(12);
  });

  it('rejects more stripes than candidates', () => {
    expect(() => headPairs([{ start: 12, rows: 6, region: anchorRegion(2, base) }], [7])).toThrow(/6 stripes|7 stripes, expected an integer from 0 to 6/);
  });

  it('recall and relative L2 equal the reference metrics', () => {
    const N = 47;
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
    const inputs = randomInputs(8, N, shape, { std: 1.3, heavyKeys: 3, bias: 2 });
    const reference = anchorAttentionReference(inputs.q, inputs.k, inputs.v, N, shape, base);
    const dense = denseAttentionReference(inputs.q, inputs.k, inputs.v, N, shape);
    const rows = sampleRows(N, { last: 4, random: 9, seed: 3 });
    for (let h = 0; h < H; h++) {
      const qHead = head(inputs.q, N, H, h, D);
      const kHead = head(inputs.k, N, Hkv, Math.floor(h / (H / Hkv)), D);
      const recall = attentionRecall(qHead, kHead, N, D, reference.selection[h], rows);
      const summary = summarizeRecall(recall.perRow);
      expect(summary.mean).toBeCloseTo(recall.mean, 12);
      expect(summary.p5).toBeCloseTo(recall.p5, 12);

      // Accumulate the sums group by group, as the engine does, and compare with outputFidelity.
      const sparseHead = head(reference.out, N, H, h, D);
      const denseHead = head(dense, N, H, h, D);
      const sums = { diffSquared: 0, refSquared: 0 };
      for (let i = 0; i < N * D; i++) {
        sums.diffSquared += (sparseHead[i] - denseHead[i]) ** 2;
        sums.refSquared += denseHead[i] ** 2;
      }
      expect(relativeL2FromSums(sums)).toBeCloseTo(outputFidelity(sparseHead, denseHead).relativeL2, 10);
    }
    expect(relativeL2FromSums({ diffSquared: 0, refSquared: 0 })).toBe(0);
    expect(relativeL2FromSums({ diffSquared: 1, refSquared: 0 })).toBe(Infinity);
  });

  it('stripe lists round-trip as runs and as bitmaps', () => {
    const random = new Random(4);
    // Clustered keys encode as runs; scattered keys as a bitmap.
    const clustered = [100, 101, 102, 103, 500, 501, 502];
    const encodedRuns = encodeStripes(clustered, 64, 1000);
    expect(encodedRuns.kind).toBe('runs');
    expect(Array.from(decodeStripes(encodedRuns))).toEqual(clustered);
    expect(stripeCount(encodedRuns)).toBe(clustered.length);

    const scattered = Array.from({ length: 900 }, (_, i) => 37 + i).filter(() => random.next() < 0.4);
    const encodedBits = encodeStripes(scattered, 37, 937);
    expect(encodedBits.kind).toBe('bitmap');
    expect(Array.from(decodeStripes(encodedBits))).toEqual(scattered);
    expect(stripeCount(encodedBits)).toBe(scattered.length);
    if (encodedBits.kind !== 'bitmap') throw new Error('expected a bitmap encoding');
    expect(encodedBits.bits.length).toBe(Math.ceil(900 / 32));

    expect(decodeStripes(encodeStripes([], 5, 5)).length).toBe(0);
    expect(() => encodeStripes([5, 4], 0, 10)).toThrow(/must ascend inside \[0, 10\), got 4 at index 1/);
  });

  it('binned shares count selected keys per bin', () => {
    // 10 keys in 4 bins of 2.5 keys: bins hold keys {0,1,2}, {3,4}, {5,6,7}, {8,9}.
    const shares = binnedShares([0, 2, 3, 9], 10, 4);
    expect(Array.from(shares)).toEqual([2 / 3, 0.5, 0, 0.5].map(Math.fround));
    // 32k keys in 300 bins: one full bin.
    const keys = Array.from({ length: 110 }, (_, i) => 220 + i);
    const wide = binnedShares(keys, 32768, 300);
    expect(wide[2]).toBeGreaterThan(0.99);
    expect(wide[5]).toBe(0);
  });
});
