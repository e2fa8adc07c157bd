/**
 * FlexPrefill block selection (Lai et al., "FlexPrefill: A Context-Aware Sparse Attention Mechanism
 * for Efficient Long-Sequence Inference", ICLR 2025), with key and query blocks of `blockSize` rows.
 *
 * 1. Pattern choice. The representative queries are the last min(blockSize, N) rows. The estimate
 *    a is the softmax over all key blocks of mean(q) · mean(k in block) · scale, because these
 *    rows see every key block. The truth b is the rows' full causal softmax summed per key block
 *    and averaged over the rows. With d = sqrt(JSD(a, b)) in nats, d < tau selects the
 *    query-aware pattern, otherwise the vertical-slash pattern.
 * 2. Query-aware pattern. For query block qb: the estimate over key blocks 0..qb is softmax of
 *    mean(q in qb) · mean(k in block) · scale, and the smallest set of highest-estimate key blocks
 *    whose estimated mass reaches gamma is kept.
 * 3. Vertical-slash pattern. From the representative rows' true softmax: column scores (summed
 *    over rows) and diagonal scores (summed over pairs (r, r - offset)). The smallest sets of
 *    highest-scoring columns, and of diagonals, that each reach gamma of their total are kept; a
 *    key block is kept for query block qb when it holds a kept column <= the block's last row or a
 *    kept diagonal crosses the (qb, kb) tile.
 * 4. Both patterns keep the diagonal block, then add key blocks by the step 2 estimate until the
 *    query block has min(minBudget, qb + 1) blocks.
 *
 * Step 1 and the pooling match the reference code, get_active_blocks in the copy of FlexPrefill
 * in github.com/mit-han-lab/x-attention (xattn/src/Flexprefill.py). Simplifications against that
 * code, on purpose:
 * - Step 2 applies gamma to each query block's row of the block matrix. The reference softmaxes
 *   each row, flattens the whole block matrix and keeps the fewest blocks whose mass reaches
 *   gamma times the number of query blocks, so one query block may keep more mass than another.
 * - Step 3 maps the kept columns and diagonals themselves to the tiles they cross. The reference
 *   only counts how many columns (and diagonals) reach gamma, turns that count into a number of
 *   blocks (count / 128 + 1, within the budgets), then keeps that many key blocks ranked by summed
 *   column score and offset blocks ranked by summed diagonal score, offset block o meaning key
 *   block qb - o.
 * - In the query-aware pattern the reference also adds the minimum budget of vertical and slash
 *   blocks; here the minimum budget counts key blocks per query block (the reference counts
 *   tokens) and is filled by the query-aware estimate in both patterns.
 * - No maximum budget, and each head is handled alone (no GQA grouping of the estimate).
 * The pooled key of a block includes all its keys, even those after some rows of the diagonal
 * block, as in the reference.
 *
 * Sweep knob: `gamma` (tau picks the pattern; sweep it apart).
 */
import {
  blockMaskFromLists,
  causalRowSoftmax,
  checkHeadInputs,
  numBlocks,
  selectionFromBlockMask,
  type BlockMask,
  type IntervalSelection,
} from '../metrics';
import { checkNonNegativeInteger, checkPositiveInteger, indicesByCumulativeMass, jensenShannonDistance, meanRows, rankDescending, softmaxInPlace } from './common';

export interface FlexPrefillOptions {
  /** Estimated attention mass the kept blocks (or lines) must reach, in (0, 1]; 0.9 is the reference code's default. */
  gamma: number;
  /** Jensen-Shannon distance (nats, sqrt of the divergence) below which the query-aware pattern is used, for example 0.1. */
  tau: number;
  /** Query and key block size; default 128, the reference code's default. */
  blockSize?: number;
  /** Minimum key blocks per query block (capped at qb + 1); default 1. */
  minBudget?: number;
}

export type FlexPrefillPattern = 'query-aware' | 'vertical-slash';

export type FlexPrefillSelection = IntervalSelection & {
  blockMask: BlockMask;
  pattern: FlexPrefillPattern;
  /** sqrt(JSD) between the pooled estimate and the representative rows' true block distribution. */
  jsDistance: number;
};

export function selectFlexPrefill(q: Float32Array, k: Float32Array, N: number, D: number, options: FlexPrefillOptions): FlexPrefillSelection {
  const op = 'selectFlexPrefill';
  checkHeadInputs(op, N, D, q, k);
  const { gamma, tau } = options;
  const blockSize = options.blockSize ?? 128;
  const minBudget = options.minBudget ?? 1;
  if (!(gamma > 0 && gamma <= 1)) throw new Error(`${op}: gamma = ${gamma} must be in (0, 1]`);
  if (Number.isNaN(tau)) throw new Error(`${op}: tau is NaN`);
  checkPositiveInteger(op, 'blockSize', blockSize);
  checkNonNegativeInteger(op, 'minBudget', minBudget);

  const blocks = numBlocks(N, blockSize);
  const scale = 1 / Math.sqrt(D);
  const pooledKeys: Float64Array[] = [];
  for (let kb = 0; kb < blocks; kb++) pooledKeys.push(meanRows(k, D, kb * blockSize, Math.min((kb + 1) * blockSize, N)));
  const pooledEstimate = (queryMean: Float64Array, lastKeyBlock: number): Float64Array => {
    const logits = new Float64Array(lastKeyBlock + 1);
    for (let kb = 0; kb <= lastKeyBlock; kb++) logits[kb] = dot(queryMean, pooledKeys[kb]) * scale;
    return softmaxInPlace(logits);
  };

  // Step 1: pattern choice on the representative rows.
  const representativeStart = N - Math.min(blockSize, N);
  const estimate = pooledEstimate(meanRows(q, D, representativeStart, N), blocks - 1);
  const truth = new Float64Array(blocks);
  const columnScores = new Float64Array(N);
  const offsetScores = new Float64Array(N);
  const probabilities = new Float64Array(N);
  for (let row = representativeStart; row < N; row++) {
    causalRowSoftmax(q, k, D, row, probabilities);
    for (let j = 0; j <= row; j++) {
      truth[Math.floor(j / blockSize)] += probabilities[j];
      columnScores[j] += probabilities[j];
      offsetScores[row - j] += probabilities[j];
    }
  }
  const jsDistance = jensenShannonDistance(estimate, truth);
  const pattern: FlexPrefillPattern = jsDistance < tau ? 'query-aware' : 'vertical-slash';

  // Steps 2 and 3: key-block lists per query block.
  const lists: Set<number>[] = [];
  const queryEstimates: Float64Array[] = [];
  for (let qb = 0; qb < blocks; qb++) {
    const rowEnd = Math.min((qb + 1) * blockSize, N);
    queryEstimates.push(pooledEstimate(meanRows(q, D, qb * blockSize, rowEnd), qb));
  }
  if (pattern === 'query-aware') {
    for (let qb = 0; qb < blocks; qb++) lists.push(new Set(indicesByCumulativeMass(queryEstimates[qb], gamma)));
  } else {
    const columns = indicesByCumulativeMass(columnScores, gamma);
    const offsets = indicesByCumulativeMass(offsetScores, gamma);
    for (let qb = 0; qb < blocks; qb++) lists.push(blocksOfLines(qb, blockSize, N, columns, offsets));
  }

  // Step 4: diagonal block and minimum budget.
  for (let qb = 0; qb < blocks; qb++) {
    const list = lists[qb];
    list.add(qb);
    const budget = Math.min(minBudget, qb + 1);
    for (const kb of rankDescending(queryEstimates[qb])) {
      if (list.size >= budget) break;
      list.add(kb);
    }
  }

  const blockMask = blockMaskFromLists(N, blockSize, lists.map((list) => [...list]));
  return Object.assign(selectionFromBlockMask(blockMask), { blockMask, pattern, jsDistance });
}

/** Key blocks of query block qb that hold a kept column <= its last row or that a kept diagonal crosses. */
function blocksOfLines(qb: number, blockSize: number, N: number, columns: Int32Array, offsets: Int32Array): Set<number> {
  const list = new Set<number>();
  const rowStart = qb * blockSize;
  const rowLast = Math.min((qb + 1) * blockSize, N) - 1;
  for (const column of columns) {
    if (column <= rowLast) list.add(Math.floor(column / blockSize));
  }
  for (const offset of offsets) {
    // The diagonal meets keys rowStart - offset .. rowLast - offset, clipped at key 0.
    const lastKey = rowLast - offset;
    if (lastKey < 0) continue;
    const firstKey = Math.max(0, rowStart - offset);
    for (let kb = Math.floor(firstKey / blockSize); kb <= Math.floor(lastKey / blockSize); kb++) list.add(kb);
  }
  return list;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}
