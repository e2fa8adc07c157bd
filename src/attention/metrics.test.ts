import { describe, expect, it } from 'vitest';
import { Random } from '../util/random';
import type { Selection } from './types';
import { intervalsOf, maskOf } from './baselines/testUtils';
import {
  attentionRecall,
  blockMaskFromLists,
  checkSelection,
  denseCausalSelection,
  outputFidelity,
  percentile,
  sampleRows,
  selectionDensity,
  selectionFromBlockMask,
  selectionFromRowKeys,
  selectionToBlockMask,
  sparseAttentionFromSelection,
  workBound,
  type BlockMask,
} from './metrics';

/** Plain masked attention: softmax over the masked keys, by the textbook formula in f64. */
function naiveMaskedAttention(q: Float32Array, k: Float32Array, v: Float32Array, N: number, D: number, mask: boolean[][]): Float64Array {
  const out = new Float64Array(N * D);
  for (let r = 0; r < N; r++) {
    const scores: number[] = [];
    const keys: number[] = [];
    for (let j = 0; j <= r; j++) {
      if (!mask[r][j]) continue;
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[r * D + d] * k[j * D + d];
      scores.push(dot / Math.sqrt(D));
      keys.push(j);
    }
    if (keys.length === 0) continue;
    const max = Math.max(...scores);
    const weights = scores.map((s) => Math.exp(s - max));
    const sum = weights.reduce((a, b) => a + b, 0);
    for (let t = 0; t < keys.length; t++) for (let d = 0; d < D; d++) out[r * D + d] += (weights[t] / sum) * v[keys[t] * D + d];
  }
  return out;
}

/** Plain recall: full-row softmax summed over the masked keys. */
function naiveRecall(q: Float32Array, k: Float32Array, D: number, mask: boolean[][], row: number): number {
  const scores: number[] = [];
  for (let j = 0; j <= row; j++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[row * D + d] * k[j * D + d];
    scores.push(dot / Math.sqrt(D));
  }
  const max = Math.max(...scores);
  const weights = scores.map((s) => Math.exp(s - max));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.reduce((kept, w, j) => kept + (mask[row][j] ? w : 0), 0) / total;
}

function randomSelection(N: number, keep: number, rng: Random): Selection {
  return selectionFromRowKeys(
    Array.from({ length: N }, (_, row) => {
      const keys = [row];
      for (let j = 0; j < row; j++) if (rng.next() < keep) keys.push(j);
      return keys;
    }),
  );
}

function randomBlockMask(N: number, blockSize: number, rng: Random): BlockMask {
  const blocks = Math.ceil(N / blockSize);
  return blockMaskFromLists(
    N,
    blockSize,
    Array.from({ length: blocks }, (_, qb) => {
      const list: number[] = [];
      for (let kb = 0; kb <= qb; kb++) if (rng.next() < 0.5) list.push(kb);
      return list;
    }),
  );
}

describe('selection builders', () => {
  it('merges consecutive keys into intervals', () => {
    // Row 2 lists keys {2, 0}: not adjacent, two intervals. Row 3 lists {0, 1, 3, 1}:
    // 0 and 1 merge into [0, 2), the repeated 1 is dropped, 3 is a separate interval.
    const sel = selectionFromRowKeys([[0], [1, 0], [2, 0], [0, 1, 3, 1]]);
    expect(intervalsOf(sel)).toEqual([[0, 1], [0, 2], [0, 1, 2, 3], [0, 2, 3, 4]]);
  });

  it('rejects a key after its row', () => {
    expect(() => selectionFromRowKeys([[0], [2]])).toThrow(/key 2 of row 1/);
  });

  it('builds the dense causal selection', () => {
    expect(intervalsOf(denseCausalSelection(3))).toEqual([[0, 1], [0, 2], [0, 3]]);
  });

  it('expands a block mask with causal clipping', () => {
    // N = 7, blocks of 3: query blocks {0,1,2}, {3,4,5}, {6}.
    // qb 0 keeps key block 0 -> row r computes [0, r + 1).
    // qb 1 keeps key block 1 only -> rows 3, 4, 5 compute [3, r + 1).
    // qb 2 keeps key blocks 0 and 2 -> row 6 computes [0, 3) and [6, 7).
    const mask = blockMaskFromLists(7, 3, [[0], [1], [2, 0]]);
    expect(Array.from(mask.keyBlocks)).toEqual([0, 1, 0, 2]);
    expect(intervalsOf(selectionFromBlockMask(mask))).toEqual([[0, 1], [0, 2], [0, 3], [3, 4], [3, 5], [3, 6], [0, 3, 6, 7]]);
  });

  it('merges adjacent key blocks into one interval', () => {
    // Key blocks 0 and 1 of size 2 are contiguous: row 3 computes [0, 4) as one interval.
    const sel = selectionFromBlockMask(blockMaskFromLists(4, 2, [[0], [0, 1]]));
    expect(Array.from(sel.rowIntervals(3))).toEqual([0, 4]);
  });

  it('covers a selection with the smallest block mask', () => {
    // N = 6, blocks of 2. Row keys: r0 {0}, r1 {1}, r2 {0}, r3 {3}, r4 {1, 4}, r5 {5}.
    // qb 0 touches key blocks {0}; qb 1 touches {0 (key 0), 1 (key 3)};
    // qb 2 touches {0 (key 1), 2 (keys 4, 5)}.
    const sel = selectionFromRowKeys([[0], [1], [0], [3], [1, 4], [5]]);
    const mask = selectionToBlockMask(sel, 2);
    expect(Array.from(mask.rowBlockOffsets)).toEqual([0, 1, 3, 5]);
    expect(Array.from(mask.keyBlocks)).toEqual([0, 0, 1, 0, 2]);
  });

  it('rejects an unsorted block list', () => {
    const mask: BlockMask = { blockSize: 2, numRows: 4, rowBlockOffsets: Int32Array.from([0, 1, 3]), keyBlocks: Int32Array.from([0, 1, 0]) };
    expect(() => selectionFromBlockMask(mask)).toThrow(/out of order/);
  });

  it('checkSelection rejects overlap and non-causal keys', () => {
    const overlapping: Selection = { numRows: 3, rowIntervals: (row) => (row === 2 ? Int32Array.from([0, 2, 1, 3]) : Int32Array.from([0, row + 1])) };
    expect(() => checkSelection(overlapping)).toThrow(/row 2/);
    const future: Selection = { numRows: 2, rowIntervals: (row) => Int32Array.from([0, row + 2]) };
    expect(() => checkSelection(future)).toThrow(/row 0/);
  });
});

describe('selectionDensity', () => {
  it('counts pairs of a hand-built selection', () => {
    // N = 4: causal pairs 4·5/2 = 10. Rows compute 1 + 1 + 2 + 2 = 6 keys -> density 0.6.
    const sel = selectionFromRowKeys([[0], [1], [0, 2], [0, 3]]);
    // Stripes: rows 2 and 3 each have one stripe key (key 0) -> 2 stripe pairs, share 2/10.
    const density = selectionDensity(sel, [0, 0, 1, 1]);
    expect(density.computedPairs).toBe(6);
    expect(density.causalPairs).toBe(10);
    expect(density.density).toBeCloseTo(0.6, 12);
    expect(density.sparsity).toBeCloseTo(0.4, 12);
    expect(density.stripePairs).toBe(2);
    expect(density.stripeShare).toBeCloseTo(0.2, 12);
  });

  it('takes stripes as a selection', () => {
    const sel = selectionFromRowKeys([[0], [1], [0, 2], [0, 3]]);
    const stripes = selectionFromRowKeys([[], [], [0], [0]]);
    expect(selectionDensity(sel, stripes).stripeShare).toBeCloseTo(0.2, 12);
  });

  it('rejects more stripe pairs than computed pairs', () => {
    const sel = selectionFromRowKeys([[0], [1]]);
    expect(() => selectionDensity(sel, [1, 2])).toThrow(/exceed/);
  });

  it('workBound inverts density', () => {
    expect(workBound(0.25)).toBe(4);
    expect(workBound(1)).toBe(1);
    expect(() => workBound(0)).toThrow(RangeError);
  });
});

describe('attentionRecall', () => {
  // D = 4, scale = 1/2. Every q_r = (2, 0, 0, 0), so s(r, j) = k_j[0]. Choosing k_j[0] = ln w_j
  // makes exp(s) = w_j with weights w = (1, 2, 5, 4).
  const N = 4;
  const D = 4;
  const w = [1, 2, 5, 4];
  const q = new Float32Array(N * D);
  const k = new Float32Array(N * D);
  for (let t = 0; t < N; t++) {
    q[t * D] = 2;
    k[t * D] = Math.log(w[t]);
  }

  it('sums the full-row softmax over the kept keys', () => {
    // Row 2 keeps {0, 2}: (1 + 5) / (1 + 2 + 5) = 0.75.
    // Row 3 keeps {2, 3}: (5 + 4) / (1 + 2 + 5 + 4) = 0.75.
    // Row 1 keeps {1}: 2 / (1 + 2) = 2/3.
    const sel = selectionFromRowKeys([[0], [1], [0, 2], [2, 3]]);
    const recall = attentionRecall(q, k, N, D, sel, [1, 2, 3]);
    expect(recall.perRow[0]).toBeCloseTo(2 / 3, 6);
    expect(recall.perRow[1]).toBeCloseTo(0.75, 6);
    expect(recall.perRow[2]).toBeCloseTo(0.75, 6);
    expect(recall.mean).toBeCloseTo((2 / 3 + 0.75 + 0.75) / 3, 6);
    // Sorted (2/3, 0.75, 0.75): position 0.05 · 2 = 0.1 -> 2/3 + 0.1 · (0.75 - 2/3).
    expect(recall.p5).toBeCloseTo(2 / 3 + 0.1 * (0.75 - 2 / 3), 6);
  });

  it('rejects a row outside the sequence', () => {
    expect(() => attentionRecall(q, k, N, D, denseCausalSelection(N), [4])).toThrow(/row 4/);
  });

  it('percentile interpolates between order statistics', () => {
    // Sorted (0, 10, 20, 30, 40): p = 0.3 -> position 1.2 -> 10 + 0.2 · 10 = 12.
    expect(percentile([40, 0, 30, 10, 20], 0.3)).toBeCloseTo(12, 12);
    expect(percentile([7], 0.05)).toBe(7);
  });
});

describe('sampleRows', () => {
  it('takes the last rows plus a seeded sample', () => {
    const rows = Array.from(sampleRows(20, { last: 3, random: 4, seed: 5 }));
    expect(rows).toHaveLength(7);
    expect(rows.slice(-3)).toEqual([17, 18, 19]);
    expect(rows.slice(0, 4).every((row) => row < 17)).toBe(true);
    expect([...rows].sort((a, b) => a - b)).toEqual(rows);
    expect(new Set(rows).size).toBe(7);
    expect(Array.from(sampleRows(20, { last: 3, random: 4, seed: 5 }))).toEqual(rows);
  });

  it('returns every row when the sample exceeds N', () => {
    expect(Array.from(sampleRows(5, { last: 2, random: 10, seed: 1 }))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(sampleRows(3, { last: 8, random: 0, seed: 1 }))).toEqual([0, 1, 2]);
  });
});

describe('outputFidelity', () => {
  it('measures a small deviation', () => {
    // diff = (0, 0, 0.005, 0.02): ||diff|| = sqrt(0.000025 + 0.0004) = 0.020616;
    // ||ref|| = sqrt(1 + 4) = 2.236068 -> relative L2 = 0.0092195.
    // got · ref = 1 + 2·2.02 = 5.04; ||got|| = sqrt(1 + 0.000025 + 4.0804) = 2.254002
    // -> cosine = 5.04 / (2.236068 · 2.254002) = 0.99998.
    // Within 0.01: the first three elements -> 3/4.
    const ref = [1, 0, 0, 2];
    const got = [1, 0, 0.005, 2.02];
    const fidelity = outputFidelity(got, ref);
    expect(fidelity.relativeL2).toBeCloseTo(0.0092195, 6);
    expect(fidelity.cosine).toBeCloseTo(5.04 / (Math.sqrt(5) * Math.sqrt(5.080425)), 10);
    expect(fidelity.withinTolerance).toBe(0.75);
    expect(fidelity.maxAbsError).toBeCloseTo(0.02, 6);
  });

  it('scores orthogonal outputs', () => {
    // got ⟂ ref, equal norms: ||diff|| = sqrt(2), relative L2 = sqrt(2), cosine 0, nothing within.
    const fidelity = outputFidelity([0, 1], [1, 0]);
    expect(fidelity.relativeL2).toBeCloseTo(Math.SQRT2, 12);
    expect(fidelity.cosine).toBe(0);
    expect(fidelity.withinTolerance).toBe(0);
  });

  it('counts NaN as outside', () => {
    const fidelity = outputFidelity([NaN, 1], [1, 1]);
    expect(fidelity.withinTolerance).toBe(0.5);
    expect(fidelity.relativeL2).toBeNaN();
  });
});

describe('sparseAttentionFromSelection', () => {
  it('averages values over the kept keys only', () => {
    // D = 2, scale = 1/sqrt(2). q_2 = (sqrt(2)·ln 3, 0) and k_j = (1, 0) for j = 0, (0, 0) else,
    // so s(2, 0) = ln 3 and s(2, 1) = s(2, 2) = 0. Row 2 keeps {0, 2}: weights 3 and 1,
    // output = (3·v_0 + v_2) / 4 = (3·(4, 0) + (0, 8)) / 4 = (3, 2).
    // Row 1 keeps {1}: output v_1 = (1, 1). Row 0 keeps nothing: zeros.
    const N = 3;
    const D = 2;
    const q = Float32Array.from([0, 0, 0, 0, Math.SQRT2 * Math.log(3), 0]);
    const k = Float32Array.from([1, 0, 0, 0, 0, 0]);
    const v = Float32Array.from([4, 0, 1, 1, 0, 8]);
    const out = sparseAttentionFromSelection(q, k, v, N, D, selectionFromRowKeys([[], [1], [0, 2]]));
    expect(Array.from(out.subarray(0, 2))).toEqual([0, 0]);
    expect(out[2]).toBeCloseTo(1, 6);
    expect(out[3]).toBeCloseTo(1, 6);
    expect(out[4]).toBeCloseTo(3, 5);
    expect(out[5]).toBeCloseTo(2, 5);
  });

  it('rejects a tensor of the wrong size', () => {
    const q = new Float32Array(6);
    expect(() => sparseAttentionFromSelection(q, q, new Float32Array(5), 3, 2, denseCausalSelection(3))).toThrow(
      /v has 5 elements, expected \[N, D\] = \[3, 2\]/,
    );
  });
});

describe('metric properties on random inputs', () => {
  const shapes: [number, number][] = [
    [1, 3],
    [13, 4],
    [37, 3],
    [53, 8],
  ];

  it.each(shapes)('dense selection is exact for N = %i, D = %i', (N, D) => {
    const rng = new Random(N * 31 + D);
    const q = rng.normals(N * D, 1.5);
    const k = rng.normals(N * D, 1.5);
    const v = rng.normals(N * D);
    const dense = denseCausalSelection(N);
    expect(selectionDensity(dense).density).toBe(1);
    const recall = attentionRecall(q, k, N, D, dense, sampleRows(N, { last: 4, random: 6, seed: 2 }));
    expect(recall.mean).toBeCloseTo(1, 12);
    expect(recall.p5).toBeCloseTo(1, 12);
    const mask = maskOf(dense);
    const fidelity = outputFidelity(sparseAttentionFromSelection(q, k, v, N, D, dense), naiveMaskedAttention(q, k, v, N, D, mask));
    // f32 output rounding of an f64 computation: about 1e-7 relative.
    expect(fidelity.relativeL2).toBeLessThan(1e-6);
    expect(fidelity.cosine).toBeCloseTo(1, 10);
    expect(fidelity.withinTolerance).toBe(1);
  });

  it.each(shapes)('random selection matches the masked reference for N = %i, D = %i', (N, D) => {
    const rng = new Random(N * 17 + D);
    const q = rng.normals(N * D, 1.5);
    const k = rng.normals(N * D, 1.5);
    const v = rng.normals(N * D);
    const sel = randomSelection(N, 0.3, rng);
    checkSelection(sel, N);
    const mask = maskOf(sel);
    const kept = mask.reduce((sum, row) => sum + row.filter(Boolean).length, 0);
    expect(selectionDensity(sel).computedPairs).toBe(kept);

    const rows = sampleRows(N, { last: 5, random: 5, seed: 9 });
    const recall = attentionRecall(q, k, N, D, sel, rows);
    rows.forEach((row, i) => expect(recall.perRow[i]).toBeCloseTo(naiveRecall(q, k, D, mask, row), 10));

    const got = sparseAttentionFromSelection(q, k, v, N, D, sel);
    const ref = naiveMaskedAttention(q, k, v, N, D, mask);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-5);
  });

  it.each([
    [1, 1],
    [7, 3],
    [37, 5],
    [64, 16],
    [50, 64],
  ])('block mask round-trips for N = %i, block %i', (N, blockSize) => {
    const rng = new Random(N + 1000 * blockSize);
    for (let trial = 0; trial < 5; trial++) {
      // Masks whose key blocks are all <= the query block come back unchanged.
      const mask = randomBlockMask(N, blockSize, rng);
      const sel = selectionFromBlockMask(mask);
      checkSelection(sel, N);
      const back = selectionToBlockMask(sel, blockSize);
      expect(Array.from(back.rowBlockOffsets)).toEqual(Array.from(mask.rowBlockOffsets));
      expect(Array.from(back.keyBlocks)).toEqual(Array.from(mask.keyBlocks));

      // A key-level selection is covered by its block mask: every kept key is in a listed block.
      const keys = randomSelection(N, 0.2, rng);
      const cover = maskOf(selectionFromBlockMask(selectionToBlockMask(keys, blockSize)));
      maskOf(keys).forEach((row, r) => row.forEach((keptKey, j) => keptKey && expect(cover[r][j]).toBe(true)));
    }
  });
});
