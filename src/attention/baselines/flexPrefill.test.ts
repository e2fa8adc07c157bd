import { describe, expect, it } from 'vitest';
import { checkSelection, selectionDensity, selectionFromBlockMask, selectionToBlockMask, type BlockMask } from '../metrics';
import { generateSyntheticHead, SYNTHETIC_PRESETS } from '../synthetic';
import { selectFlexPrefill } from './flexPrefill';
import { firstUncovered, intervalsOf, randomHead } from './testUtils';

function blockLists(mask: BlockMask): number[][] {
  const lists: number[][] = [];
  for (let qb = 0; qb + 1 < mask.rowBlockOffsets.length; qb++) {
    lists.push(Array.from(mask.keyBlocks.subarray(mask.rowBlockOffsets[qb], mask.rowBlockOffsets[qb + 1])));
  }
  return lists;
}

/** N = 8, D = 2, scale = 1/sqrt(2): x = 10/sqrt(2) = 7.07 and exp(x) = 1176. */
function head(queries: number[], keys: Record<number, number>): { q: Float32Array; k: Float32Array } {
  const q = new Float32Array(16);
  const k = new Float32Array(16);
  queries.forEach((value, t) => (q[t * 2] = value));
  for (const [t, value] of Object.entries(keys)) k[Number(t) * 2] = value;
  return { q, k };
}

describe('selectFlexPrefill', () => {
  it('uses the query-aware pattern when the pooled estimate is right', () => {
    // Every q = (1, 0); keys 2 and 3 (block 1 of size 2) are (10, 0), the rest 0.
    // Estimate for rows 6, 7: pooled key of block 1 is (10, 0) -> (1, 1176, 1, 1) / 1179.
    // Truth: row 6 (2, 2352, 2, 1) / 2357 and row 7 (2, 2352, 2, 2) / 2358; they agree to 2e-4,
    // so the JS distance is about 0.003 < tau = 0.1.
    // Per query block (gamma 0.9): qb1 estimates (0.0008, 0.9992) -> {1}; qb2 (.., 0.9983, ..) -> {1}
    // plus the diagonal 2; qb3 -> {1} plus 3; qb0 -> {0}.
    // Rows: r0 {0}, r1 {0,1}, r2 {2}, r3 {2,3}, r4 {2,3,4}, r5 {2..5}, r6 {2,3,6}, r7 {2,3,6,7}:
    // 1 + 2 + 1 + 2 + 3 + 4 + 3 + 4 = 20 of 36 pairs.
    const { q, k } = head([1, 1, 1, 1, 1, 1, 1, 1], { 2: 10, 3: 10 });
    const sel = selectFlexPrefill(q, k, 8, 2, { gamma: 0.9, tau: 0.1, blockSize: 2, minBudget: 0 });
    expect(sel.pattern).toBe('query-aware');
    expect(sel.jsDistance).toBeLessThan(0.01);
    expect(blockLists(sel.blockMask)).toEqual([[0], [1], [1, 2], [1, 3]]);
    expect(intervalsOf(sel)).toEqual([[0, 1], [0, 2], [2, 3], [2, 4], [2, 5], [2, 6], [2, 4, 6, 7], [2, 4, 6, 8]]);
    expect(selectionDensity(sel).density).toBeCloseTo(20 / 36, 12);
  });

  it('fills the minimum budget by the estimate', () => {
    // Same head, minBudget 2: qb1 adds block 0, the only other; qb0 has just one block.
    const { q, k } = head([1, 1, 1, 1, 1, 1, 1, 1], { 2: 10, 3: 10 });
    const sel = selectFlexPrefill(q, k, 8, 2, { gamma: 0.9, tau: 0.1, blockSize: 2, minBudget: 2 });
    expect(blockLists(sel.blockMask)).toEqual([[0], [0, 1], [1, 2], [1, 3]]);
  });

  it('falls back to vertical-slash when the pooled estimate is wrong', () => {
    // q_7 = (-1, 0), every other q = (1, 0); k_3 = (10, 0), k_5 = (-10, 0).
    // The pooled query of rows 6, 7 is 0, so the estimate is uniform (1/4 each), while row 6
    // attends key 3 and row 7 key 5: truth ~ (0.0017, 0.4996, 0.4996, 0.0013). JS distance
    // ~ sqrt(0.216) = 0.46 >= tau.
    // Columns: key 3 ~ 0.996, key 5 ~ 0.995 of a total of 2 -> both needed for gamma 0.9.
    // Diagonals: offset 3 (row 6 -> key 3) and offset 2 (row 7 -> key 5), both needed.
    // Blocks: qb0 {0}; qb1 (rows 2, 3): column 3 -> 1, offsets 2, 3 -> keys 0, 1 -> 0, diagonal 1;
    // qb2 (rows 4, 5): columns -> 1, 2; offset 2 -> keys 2, 3 -> 1; offset 3 -> keys 1, 2 -> 0, 1;
    // qb3 (rows 6, 7): columns -> 1, 2; offsets -> keys 3..5 -> 1, 2; diagonal 3.
    // Rows: r0..r5 dense (1+2+3+4+5+6), r6 2..6 (5), r7 2..7 (6): 32 of 36 pairs.
    const { q, k } = head([1, 1, 1, 1, 1, 1, 1, -1], { 3: 10, 5: -10 });
    const sel = selectFlexPrefill(q, k, 8, 2, { gamma: 0.9, tau: 0.1, blockSize: 2, minBudget: 0 });
    expect(sel.pattern).toBe('vertical-slash');
    expect(sel.jsDistance).toBeGreaterThan(0.4);
    expect(sel.jsDistance).toBeLessThan(0.5);
    expect(blockLists(sel.blockMask)).toEqual([[0], [0, 1], [0, 1, 2], [1, 2, 3]]);
    expect(selectionDensity(sel).density).toBeCloseTo(32 / 36, 12);
  });

  it('rejects gamma outside (0, 1]', () => {
    const { q, k } = randomHead(8, 2, 1);
    expect(() => selectFlexPrefill(q, k, 8, 2, { gamma: 0, tau: 0.1 })).toThrow(/gamma = 0/);
  });

  it.each([
    [13, 4, 4, 'query-aware'],
    [37, 3, 5, 'vertical-slash'],
    [61, 8, 8, 'query-aware'],
    [61, 8, 7, 'vertical-slash'],
  ] as const)('keeps the block invariants for N = %i, D = %i, block %i, %s', (N, D, blockSize, pattern) => {
    // tau = +Infinity forces the query-aware pattern and tau = -1 the vertical-slash one.
    const tau = pattern === 'query-aware' ? Infinity : -1;
    const { q, k } = randomHead(N, D, N * blockSize);
    let previous = undefined as ReturnType<typeof selectFlexPrefill> | undefined;
    for (const gamma of [0.3, 0.6, 0.9, 1]) {
      const sel = selectFlexPrefill(q, k, N, D, { gamma, tau, blockSize, minBudget: 2 });
      expect(sel.pattern).toBe(pattern);
      checkSelection(sel, N);
      // The selection is the mask's expansion, and the mask is the selection's smallest cover.
      expect(intervalsOf(selectionFromBlockMask(sel.blockMask))).toEqual(intervalsOf(sel));
      const cover = selectionToBlockMask(sel, blockSize);
      expect(Array.from(cover.keyBlocks)).toEqual(Array.from(sel.blockMask.keyBlocks));
      blockLists(sel.blockMask).forEach((list, qb) => {
        expect(list, `query block ${qb}`).toContain(qb);
        expect(list.length).toBeGreaterThanOrEqual(Math.min(2, qb + 1));
      });
      // A larger gamma keeps every block of a smaller one.
      if (previous) expect(firstUncovered(previous, sel)).toBeNull();
      previous = sel;
    }
    expect(selectionDensity(previous!).density).toBe(1);
  });

  it('finds the planted columns of a synthetic head', () => {
    // Heavy columns of strength 5 hold most of every late row's mass; gamma 0.9 must keep them.
    const synthetic = generateSyntheticHead({ N: 300, D: 16, seed: 4, ...SYNTHETIC_PRESETS['heavy-columns'] });
    const sel = selectFlexPrefill(synthetic.q, synthetic.k, 300, 16, { gamma: 0.9, tau: 0.1, blockSize: 16, minBudget: 1 });
    const lastBlock = Math.floor(299 / 16);
    const list = blockLists(sel.blockMask)[lastBlock];
    for (const column of synthetic.plan.heavyColumns) expect(list).toContain(Math.floor(column / 16));
    expect(selectionDensity(sel).density).toBeLessThan(0.6);
  });
});
