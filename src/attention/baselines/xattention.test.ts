import { describe, expect, it } from 'vitest';
import { checkSelection, selectionDensity, selectionFromBlockMask, selectionToBlockMask, type BlockMask } from '../metrics';
import { selectXAttention } from './xattention';
import { firstUncovered, intervalsOf, randomHead, score } from './testUtils';

function blockLists(mask: BlockMask): number[][] {
  const lists: number[][] = [];
  for (let qb = 0; qb + 1 < mask.rowBlockOffsets.length; qb++) {
    lists.push(Array.from(mask.keyBlocks.subarray(mask.rowBlockOffsets[qb], mask.rowBlockOffsets[qb + 1])));
  }
  return lists;
}

/**
 * Plain restatement of the rule from pairs: pair (row, key) with key <= row lies on the
 * antidiagonal segment (row / S, key / S) when row % S + key % S = S - 1.
 */
function plainXAttention(q: Float32Array, k: Float32Array, N: number, D: number, blockSize: number, stride: number, threshold: number): number[][] {
  const groups = Math.ceil(N / stride);
  const segment = Array.from({ length: groups }, () => new Array<number>(groups).fill(0));
  const present = Array.from({ length: groups }, () => new Array<boolean>(groups).fill(false));
  for (let row = 0; row < N; row++) {
    for (let key = 0; key <= row; key++) {
      if ((row % stride) + (key % stride) !== stride - 1) continue;
      const i = Math.floor(row / stride);
      const j = Math.floor(key / stride);
      segment[i][j] += score(q, k, D, row, key) / stride;
      present[i][j] = true;
    }
  }
  const blocks = Math.ceil(N / blockSize);
  const perBlock = blockSize / stride;
  const mass = Array.from({ length: blocks }, () => new Array<number>(blocks).fill(0));
  for (let i = 0; i < groups; i++) {
    const entries = segment[i].map((s, j) => (present[i][j] ? Math.exp(s) : 0));
    const total = entries.reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    entries.forEach((e, j) => (mass[Math.floor(i / perBlock)][Math.floor(j / perBlock)] += e / total));
  }
  return mass.map((row, qb) => {
    const causal = row.slice(0, qb + 1);
    const total = causal.reduce((a, b) => a + b, 0);
    const order = causal.map((m, kb) => [m / total, kb]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const chosen = new Set<number>([0, qb]);
    let cumulative = 0;
    for (const [m, kb] of order) {
      if (cumulative >= threshold && threshold < 1) break;
      chosen.add(kb);
      cumulative += m;
    }
    return [...chosen].sort((a, b) => a - b);
  });
}

describe('selectXAttention', () => {
  it('selects blocks from antidiagonal scores', () => {
    // N = 8, D = 2, blocks of 2, stride 2 (one segment per block pair). Every q = (1, 0);
    // k_5 = (10, 0), k_2 = (-10, 0), other keys 0. A segment (i, j) sums q·k over the pairs
    // (2i + 1, 2j) and (2i, 2j + 1), times scale / S = 1/(2 sqrt(2)); y = 10/(2 sqrt(2)) = 3.54.
    // qb1: j=0 -> 0; j=1 -> pair (3, 2) = -10, (2, 3) is not causal -> -y. Mass (0.972, 0.028):
    //   block 0 alone reaches 0.9 -> {0} plus the diagonal -> {0, 1}.
    // qb2: logits (0, -y via pair (5, 2), 0) -> (0.493, 0.014, 0.493): blocks 0 then 2 reach 0.9.
    // qb3: logits (0, -y, +y via pair (6, 5), 0) -> block 2 = 34.3 / 36.3 = 0.944 -> {2} + {0, 3}.
    // Rows: r0 {0}, r1 {0,1}, r2 {0..2}, r3 {0..3}, r4 {0,1,4}, r5 {0,1,4,5}, r6 {0,1,4,5,6},
    // r7 {0,1,4..7}: 1 + 2 + 3 + 4 + 3 + 4 + 5 + 6 = 28 of 36 pairs.
    const q = new Float32Array(16);
    const k = new Float32Array(16);
    for (let t = 0; t < 8; t++) q[t * 2] = 1;
    k[5 * 2] = 10;
    k[2 * 2] = -10;
    const sel = selectXAttention(q, k, 8, 2, { threshold: 0.9, blockSize: 2, stride: 2 });
    expect(blockLists(sel.blockMask)).toEqual([[0], [0, 1], [0, 2], [0, 2, 3]]);
    expect(sel.blockMass[3 * 4 + 2]).toBeCloseTo(Math.exp(3.5355) / (2 + Math.exp(3.5355) + Math.exp(-3.5355)), 3);
    expect(intervalsOf(sel)).toEqual([[0, 1], [0, 2], [0, 3], [0, 4], [0, 2, 4, 5], [0, 2, 4, 6], [0, 2, 4, 7], [0, 2, 4, 8]]);
    expect(selectionDensity(sel).density).toBeCloseTo(28 / 36, 12);
  });

  it('rejects a stride that does not divide the block', () => {
    const { q, k } = randomHead(8, 2, 1);
    expect(() => selectXAttention(q, k, 8, 2, { threshold: 0.9, blockSize: 6, stride: 4 })).toThrow(/stride 4 must divide blockSize 6/);
  });

  it.each([
    [13, 4, 4, 2],
    [37, 3, 6, 3],
    [61, 8, 8, 4],
    [3, 2, 4, 4],
  ])('matches the plain rule for N = %i, D = %i, block %i, stride %i', (N, D, blockSize, stride) => {
    const { q, k } = randomHead(N, D, N * 7 + stride);
    let previous = undefined as ReturnType<typeof selectXAttention> | undefined;
    for (const threshold of [0.3, 0.6, 0.9, 1]) {
      const sel = selectXAttention(q, k, N, D, { threshold, blockSize, stride });
      checkSelection(sel, N);
      expect(blockLists(sel.blockMask), `threshold ${threshold}`).toEqual(plainXAttention(q, k, N, D, blockSize, stride, threshold));
      expect(intervalsOf(selectionFromBlockMask(sel.blockMask))).toEqual(intervalsOf(sel));
      expect(Array.from(selectionToBlockMask(sel, blockSize).keyBlocks)).toEqual(Array.from(sel.blockMask.keyBlocks));
      if (previous) expect(firstUncovered(previous, sel)).toBeNull();
      previous = sel;
    }
    expect(selectionDensity(previous!).density).toBe(1);
  });
});
