/**
 * XAttention block selection (Xu et al., "XAttention: Block Sparse Attention with Antidiagonal
 * Scoring", 2025), with key and query blocks of `blockSize` rows and antidiagonal stride S.
 *
 * 1. Antidiagonal scores. Rows and keys are cut into groups of S. The segment of row group i and
 *    key group j is the antidiagonal of their S x S tile, the pairs (iS + S - 1 - t, jS + t) for
 *    t = 0..S-1, and its score is the sum of q·k over those pairs, times scale / S. Pairs past N
 *    or above the causal diagonal are left out, and key groups after the row group are masked.
 *    Within a block pair the segments repeat every S rows and keys, so they sample the tile's
 *    antidiagonals at stride S.
 * 2. Block mass. Each row group takes the softmax of its segment scores over all its key groups.
 *    The probabilities are summed per (query block, key block) and divided by the query block's
 *    row groups, so every query block gets a distribution over its key blocks 0..qb.
 * 3. Threshold. Per query block, the smallest set of highest-mass key blocks whose mass reaches
 *    `threshold` is kept, then the first block and the diagonal block are added.
 *
 * This follows the authors' code (xattn_estimate with select_mode "inverse" in
 * github.com/mit-han-lab/x-attention, xattn/src/Xattention.py): the softmax
 * runs over antidiagonal segments and the block mass is their sum, not a softmax over one score
 * per block. Two differences: the reference keeps the non-causal pairs of the segment on the
 * causal diagonal, and it keeps the first and diagonal blocks only when asked (keep_sink,
 * keep_recent), while here both are always kept.
 * Sweep knob: `threshold` (1 keeps every causal block).
 */
import {
  blockMaskFromLists,
  checkHeadInputs,
  numBlocks,
  selectionFromBlockMask,
  type BlockMask,
  type IntervalSelection,
} from '../metrics';
import { checkPositiveInteger, indicesByCumulativeMass } from './common';

export interface XAttentionOptions {
  /** Block mass each query block must keep, in (0, 1]; the reference code defaults to 0.8 or 0.9. */
  threshold: number;
  /** Query and key block size; default 128, as the reference's block-sparse kernel requires. */
  blockSize?: number;
  /** Antidiagonal stride S; must divide blockSize; default 8. */
  stride?: number;
}

export type XAttentionSelection = IntervalSelection & {
  blockMask: BlockMask;
  /** [queryBlocks, keyBlocks] estimated mass of each causal block pair; 0 above the diagonal. */
  blockMass: Float64Array;
};

export function selectXAttention(q: Float32Array, k: Float32Array, N: number, D: number, options: XAttentionOptions): XAttentionSelection {
  const op = 'selectXAttention';
  checkHeadInputs(op, N, D, q, k);
  const { threshold } = options;
  const blockSize = options.blockSize ?? 128;
  const stride = options.stride ?? 8;
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`${op}: threshold = ${threshold} must be in (0, 1]`);
  checkPositiveInteger(op, 'blockSize', blockSize);
  checkPositiveInteger(op, 'stride', stride);
  if (blockSize % stride !== 0) throw new Error(`${op}: stride ${stride} must divide blockSize ${blockSize}`);

  const blocks = numBlocks(N, blockSize);
  const groups = Math.ceil(N / stride);
  const groupsPerBlock = blockSize / stride;
  const segmentScale = 1 / Math.sqrt(D) / stride;
  const blockMass = new Float64Array(blocks * blocks);
  const logits = new Float64Array(groups);
  const valid = new Uint8Array(groups);

  for (let rowGroup = 0; rowGroup < groups; rowGroup++) {
    // Step 1: segment scores of this row group against key groups 0..rowGroup.
    let max = -Infinity;
    for (let keyGroup = 0; keyGroup <= rowGroup; keyGroup++) {
      let sum = 0;
      let terms = 0;
      for (let t = 0; t < stride; t++) {
        const row = rowGroup * stride + stride - 1 - t;
        const key = keyGroup * stride + t;
        if (row >= N || key > row) continue;
        for (let d = 0; d < D; d++) sum += q[row * D + d] * k[key * D + d];
        terms++;
      }
      valid[keyGroup] = terms > 0 ? 1 : 0;
      logits[keyGroup] = sum * segmentScale;
      if (terms > 0 && logits[keyGroup] > max) max = logits[keyGroup];
    }
    // A row group with no causal pair (possible only at the end) adds no mass.
    if (max === -Infinity) continue;

    // Step 2: softmax over the segments, summed into key blocks.
    let total = 0;
    for (let keyGroup = 0; keyGroup <= rowGroup; keyGroup++) {
      logits[keyGroup] = valid[keyGroup] ? Math.exp(logits[keyGroup] - max) : 0;
      total += logits[keyGroup];
    }
    const qb = Math.floor(rowGroup / groupsPerBlock);
    for (let keyGroup = 0; keyGroup <= rowGroup; keyGroup++) {
      blockMass[qb * blocks + Math.floor(keyGroup / groupsPerBlock)] += logits[keyGroup] / total;
    }
  }

  // Step 3: threshold per query block, plus the first and the diagonal block.
  const lists: number[][] = [];
  for (let qb = 0; qb < blocks; qb++) {
    const row = blockMass.subarray(qb * blocks, qb * blocks + qb + 1);
    let sum = 0;
    for (const value of row) sum += value;
    // The sum is 0 only for a block whose rows have no causal pair in any segment (N < stride).
    if (sum > 0) for (let kb = 0; kb <= qb; kb++) row[kb] /= sum;
    lists.push([...indicesByCumulativeMass(row, threshold), 0, qb]);
  }
  const blockMask = blockMaskFromLists(N, blockSize, lists);
  return Object.assign(selectionFromBlockMask(blockMask), { blockMask, blockMass });
}
