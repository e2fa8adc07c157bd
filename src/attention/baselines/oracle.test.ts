import { describe, expect, it } from 'vitest';
import { attentionRecall, checkSelection, selectionDensity, sampleRows } from '../metrics';
import { selectOracle } from './oracle';
import { firstUncovered, intervalsOf, keysOf, randomHead, score } from './testUtils';

describe('selectOracle', () => {
  // D = 4, scale = 1/2, every q_r = (2, 0, 0, 0): s(r, j) = k_j[0] = (0, 3, 1, 5, 2)[j].
  const N = 5;
  const D = 4;
  const q = new Float32Array(N * D);
  const k = new Float32Array(N * D);
  [0, 3, 1, 5, 2].forEach((value, t) => {
    q[t * D] = 2;
    k[t * D] = value;
  });

  it('keeps keys within theta of the row maximum', () => {
    // theta = 2.5. r0: {0}. r1: max 3, floor 0.5 -> {1}. r2: max 3 -> {1 (3), 2 (1)}.
    // r3: max 5, floor 2.5 -> {1 (3), 3 (5)}. r4: same floor -> {1, 3}; key 4 scores 2 < 2.5.
    // Pairs 1 + 1 + 2 + 2 + 2 = 8 of 15.
    const sel = selectOracle(q, k, N, D, { theta: 2.5 });
    expect(intervalsOf(sel)).toEqual([[0, 1], [1, 2], [1, 3], [1, 2, 3, 4], [1, 2, 3, 4]]);
    expect(selectionDensity(sel).density).toBeCloseTo(8 / 15, 12);
    // Row 4 keeps exp(3) + exp(5) of exp(0) + exp(3) + exp(1) + exp(5) + exp(2).
    const expectedRecall = (Math.exp(3) + Math.exp(5)) / (1 + Math.exp(3) + Math.exp(1) + Math.exp(5) + Math.exp(2));
    expect(attentionRecall(q, k, N, D, sel, [4]).mean).toBeCloseTo(expectedRecall, 6);
  });

  it('keeps only the maximum at theta 0', () => {
    expect(intervalsOf(selectOracle(q, k, N, D, { theta: 0 }))).toEqual([[0, 1], [1, 2], [1, 2], [3, 4], [3, 4]]);
  });

  it('is dense at infinite theta', () => {
    expect(selectionDensity(selectOracle(q, k, N, D, { theta: Infinity })).density).toBe(1);
  });

  it('rejects a negative theta', () => {
    expect(() => selectOracle(q, k, N, D, { theta: -1 })).toThrow(/theta = -1/);
  });

  it.each([
    [13, 3, 1],
    [37, 4, 4],
    [61, 8, 8],
  ])('matches the plain rule for N = %i, D = %i, theta %i', (N, D, theta) => {
    const head = randomHead(N, D, N + D);
    const sel = selectOracle(head.q, head.k, N, D, { theta });
    checkSelection(sel, N);
    for (let row = 0; row < N; row++) {
      const scores = Array.from({ length: row + 1 }, (_, j) => score(head.q, head.k, D, row, j));
      const max = Math.max(...scores);
      // Scores within 1e-9 of the floor could round either way between the two computations.
      const expected = scores.flatMap((s, j) => (s >= max - theta + 1e-9 ? [j] : []));
      const optional = scores.flatMap((s, j) => (Math.abs(s - (max - theta)) <= 1e-9 ? [j] : []));
      expect(keysOf(sel, row).filter((j) => !optional.includes(j)), `row ${row}`).toEqual(expected);
    }
    const wider = selectOracle(head.q, head.k, N, D, { theta: theta + 1 });
    expect(firstUncovered(sel, wider)).toBeNull();
    const rows = sampleRows(N, { last: 4, random: 4, seed: 1 });
    expect(attentionRecall(head.q, head.k, N, D, wider, rows).mean).toBeGreaterThanOrEqual(attentionRecall(head.q, head.k, N, D, sel, rows).mean);
  });
});
