/**
 * Vertical-slash selection in the style of MInference (Jiang et al., "MInference 1.0", 2024).
 *
 * 1. Estimate: the last L = min(lastQueries, N) query rows compute their full causal softmax.
 *    A column (vertical line) scores the summed probability that the L rows put on its key. A
 *    diagonal (slash line) scores the summed probability on the pairs (r, r - offset).
 * 2. Pick the `verticalBudget` best columns and the `slashBudget` best offsets. As in MInference,
 *    the first `forcedColumns` keys and the `forcedDiagonals` smallest offsets are chosen first and
 *    count inside the budgets. MInference forces 30 columns and 100 diagonals, sized for long
 *    prompts; the defaults here force key 0 and offset 0 only, so every row attends itself.
 * 3. Row r computes the union of the chosen columns c <= r and the keys r - offset >= 0.
 * 4. The L estimate rows compute all their causal keys (`denseEstimateRows`, on by default),
 *    because step 1 already scored their full rows; those pairs count in the density. MInference's
 *    kernel gives these rows the same lines as every other row, which `denseEstimateRows: false`
 *    reproduces.
 *
 * Sweep knobs: `verticalBudget` and `slashBudget` (often swept together).
 */
import { causalRowSoftmax, checkHeadInputs, SelectionWriter, type IntervalSelection } from '../metrics';
import { checkNonNegativeInteger, checkPositiveInteger, rankDescending } from './common';

export interface VerticalSlashOptions {
  /** Key columns every row may attend (those <= the row). */
  verticalBudget: number;
  /** Diagonals (offsets r - j) every row attends where they are causal. */
  slashBudget: number;
  /** Query rows at the end used for the estimate; 64 as in MInference. */
  lastQueries?: number;
  /** Leading keys chosen before ranking, inside verticalBudget; default 1. */
  forcedColumns?: number;
  /** Smallest offsets chosen before ranking, inside slashBudget; default 1. */
  forcedDiagonals?: number;
  /** Compute the estimate rows densely; default true. */
  denseEstimateRows?: boolean;
}

export type VerticalSlashSelection = IntervalSelection & {
  /** Chosen key columns, ascending. */
  verticalColumns: Int32Array;
  /** Chosen diagonal offsets r - j, ascending. */
  slashOffsets: Int32Array;
};

export function selectVerticalSlash(q: Float32Array, k: Float32Array, N: number, D: number, options: VerticalSlashOptions): VerticalSlashSelection {
  const op = 'selectVerticalSlash';
  checkHeadInputs(op, N, D, q, k);
  const { verticalBudget, slashBudget } = options;
  const lastQueries = options.lastQueries ?? 64;
  const forcedColumns = options.forcedColumns ?? 1;
  const forcedDiagonals = options.forcedDiagonals ?? 1;
  checkNonNegativeInteger(op, 'verticalBudget', verticalBudget);
  checkNonNegativeInteger(op, 'slashBudget', slashBudget);
  checkPositiveInteger(op, 'lastQueries', lastQueries);
  checkNonNegativeInteger(op, 'forcedColumns', forcedColumns);
  checkNonNegativeInteger(op, 'forcedDiagonals', forcedDiagonals);

  // Step 1: column and diagonal scores from the last L rows.
  const estimateStart = N - Math.min(lastQueries, N);
  const columnScores = new Float64Array(N);
  const offsetScores = new Float64Array(N);
  const probabilities = new Float64Array(N);
  for (let row = estimateStart; row < N; row++) {
    causalRowSoftmax(q, k, D, row, probabilities);
    for (let j = 0; j <= row; j++) {
      columnScores[j] += probabilities[j];
      offsetScores[row - j] += probabilities[j];
    }
  }

  // Step 2: forced lines first, then the best-scoring others.
  const verticalColumns = chooseLines(columnScores, Math.min(forcedColumns, N), verticalBudget);
  const slashOffsets = chooseLines(offsetScores, Math.min(forcedDiagonals, N), slashBudget);

  // Step 3: per row, merge the ascending columns with the diagonal keys r - offset, which ascend
  // when the offsets are walked from largest to smallest.
  const denseEstimateRows = options.denseEstimateRows ?? true;
  const writer = new SelectionWriter(N);
  for (let row = 0; row < N; row++) {
    if (denseEstimateRows && row >= estimateStart) {
      writer.add(0, row + 1);
      writer.endRow();
      continue;
    }
    let c = 0;
    let s = slashOffsets.length - 1;
    while (s >= 0 && slashOffsets[s] > row) s--;
    for (;;) {
      const column = c < verticalColumns.length && verticalColumns[c] <= row ? verticalColumns[c] : Infinity;
      const diagonalKey = s >= 0 ? row - slashOffsets[s] : Infinity;
      if (column === Infinity && diagonalKey === Infinity) break;
      if (column <= diagonalKey) {
        writer.addKey(column);
        c++;
        if (column === diagonalKey) s--;
      } else {
        writer.addKey(diagonalKey);
        s--;
      }
    }
    writer.endRow();
  }
  return Object.assign(writer.finish(), { verticalColumns, slashOffsets });
}

/** Indices 0..forced-1, then the best others by score, up to `budget` in all; ascending. */
function chooseLines(scores: Float64Array, forced: number, budget: number): Int32Array {
  const chosen: number[] = [];
  for (let i = 0; i < Math.min(forced, budget); i++) chosen.push(i);
  for (const index of rankDescending(scores)) {
    if (chosen.length >= Math.min(budget, scores.length)) break;
    if (index >= forced) chosen.push(index);
  }
  return Int32Array.from(chosen).sort();
}
