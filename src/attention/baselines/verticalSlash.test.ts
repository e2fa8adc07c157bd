import { describe, expect, it } from 'vitest';
import { causalRowSoftmax, checkSelection, selectionDensity } from '../metrics';
import { selectVerticalSlash, type VerticalSlashOptions } from './verticalSlash';
import { firstUncovered, intervalsOf, keysOf, randomHead } from './testUtils';

/**
 * N = 8, D = 2, scale = 1/sqrt(2). Every q_r = (1, 0); k_3 = (10, 0) and every other key is 0,
 * so key 3 scores x = 10/sqrt(2) = 7.07 (exp(x) = 1176) and the rest score 0.
 */
function spikeAtKey3(): { q: Float32Array; k: Float32Array } {
  const q = new Float32Array(16);
  const k = new Float32Array(16);
  for (let t = 0; t < 8; t++) q[t * 2] = 1;
  k[3 * 2] = 10;
  return { q, k };
}

describe('selectVerticalSlash', () => {
  it('picks the spiking column and diagonal', () => {
    // Estimate rows 6 and 7: p6(3) = 1176/1182 = 0.99492, p7(3) = 1176/1183 = 0.99408, the other
    // keys 1/1182 and 1/1183. Columns: key 3 sums to 1.989, every other column at most 0.0017.
    // Diagonals: offset 3 = p6(3) + p7(4) = 0.99577 beats offset 4 = p6(2) + p7(3) = 0.99493.
    // Budgets of 2 with key 0 and offset 0 forced: columns {0, 3}, offsets {0, 3}.
    // Rows compute {0, 3 if r >= 3} ∪ {r, r - 3 if r >= 3}; rows 6 and 7 are dense:
    // r0 {0}, r1 {0,1}, r2 {0,2}, r3 {0,3}, r4 {0,1,3,4}, r5 {0,2,3,5}, r6 0..6, r7 0..7
    // -> 1 + 2 + 2 + 2 + 4 + 4 + 7 + 8 = 30 of 36 pairs.
    const { q, k } = spikeAtKey3();
    const sel = selectVerticalSlash(q, k, 8, 2, { verticalBudget: 2, slashBudget: 2, lastQueries: 2 });
    expect(Array.from(sel.verticalColumns)).toEqual([0, 3]);
    expect(Array.from(sel.slashOffsets)).toEqual([0, 3]);
    expect(intervalsOf(sel)).toEqual([[0, 1], [0, 2], [0, 1, 2, 3], [0, 1, 3, 4], [0, 2, 3, 5], [0, 1, 2, 4, 5, 6], [0, 7], [0, 8]]);
    expect(selectionDensity(sel).density).toBeCloseTo(30 / 36, 12);
  });

  it('applies the lines to the estimate rows when asked', () => {
    // Same lines; row 6 computes {0, 3} ∪ {6, 3} and row 7 {0, 3} ∪ {7, 4}.
    const { q, k } = spikeAtKey3();
    const sel = selectVerticalSlash(q, k, 8, 2, { verticalBudget: 2, slashBudget: 2, lastQueries: 2, denseEstimateRows: false });
    expect(keysOf(sel, 6)).toEqual([0, 3, 6]);
    expect(keysOf(sel, 7)).toEqual([0, 3, 4, 7]);
  });

  it('leaves rows empty without forced lines', () => {
    // One column (3) and one diagonal (3), nothing forced: rows 0..2 have no key at all.
    const { q, k } = spikeAtKey3();
    const sel = selectVerticalSlash(q, k, 8, 2, { verticalBudget: 1, slashBudget: 1, lastQueries: 2, forcedColumns: 0, forcedDiagonals: 0 });
    expect(Array.from(sel.verticalColumns)).toEqual([3]);
    expect(Array.from(sel.slashOffsets)).toEqual([3]);
    expect(keysOf(sel, 2)).toEqual([]);
    expect(keysOf(sel, 5)).toEqual([2, 3]);
  });

  it.each([
    [13, 4, 3, 2, 5],
    [37, 3, 6, 4, 64],
    [61, 8, 5, 9, 20],
  ])('matches the plain rule for N = %i, D = %i', (N, D, verticalBudget, slashBudget, lastQueries) => {
    const { q, k } = randomHead(N, D, N * D);
    const options: VerticalSlashOptions = { verticalBudget, slashBudget, lastQueries, forcedColumns: 2, forcedDiagonals: 1 };
    const sel = selectVerticalSlash(q, k, N, D, options);
    checkSelection(sel, N);

    // Plain estimate over the last rows, then forced lines plus the best others by sort.
    const estimateStart = Math.max(0, N - lastQueries);
    const columns = new Array<number>(N).fill(0);
    const offsets = new Array<number>(N).fill(0);
    const p = new Float64Array(N);
    for (let r = estimateStart; r < N; r++) {
      causalRowSoftmax(q, k, D, r, p);
      for (let j = 0; j <= r; j++) {
        columns[j] += p[j];
        offsets[r - j] += p[j];
      }
    }
    const best = (scores: number[], forced: number, budget: number) => {
      const others = scores
        .map((s, i) => [s, i])
        .filter(([, i]) => i >= forced)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1])
        .map(([, i]) => i);
      return [...Array.from({ length: forced }, (_, i) => i), ...others].slice(0, budget).sort((a, b) => a - b);
    };
    const expectedColumns = best(columns, 2, verticalBudget);
    const expectedOffsets = best(offsets, 1, slashBudget);
    expect(Array.from(sel.verticalColumns)).toEqual(expectedColumns);
    expect(Array.from(sel.slashOffsets)).toEqual(expectedOffsets);
    for (let row = 0; row < N; row++) {
      const expected = new Set<number>();
      if (row >= estimateStart) for (let j = 0; j <= row; j++) expected.add(j);
      for (const c of expectedColumns) if (c <= row) expected.add(c);
      for (const d of expectedOffsets) if (d <= row) expected.add(row - d);
      expect(keysOf(sel, row), `row ${row}`).toEqual([...expected].sort((a, b) => a - b));
    }

    // Larger budgets keep every line of the smaller ones.
    const larger = selectVerticalSlash(q, k, N, D, { ...options, verticalBudget: verticalBudget + 2, slashBudget: slashBudget + 2 });
    expect(firstUncovered(sel, larger)).toBeNull();
  });

  it('is dense when the budgets cover every line', () => {
    const { q, k } = randomHead(23, 4, 7);
    const sel = selectVerticalSlash(q, k, 23, 4, { verticalBudget: 23, slashBudget: 23, lastQueries: 4, denseEstimateRows: false });
    expect(selectionDensity(sel).density).toBe(1);
  });
});
