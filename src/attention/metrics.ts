/**
 * Selection statistics shared by every prefill attention method (dense, AnchorAttention and the
 * baselines), so that their numbers are comparable: density, attention-mass recall, output fidelity
 * against dense, the work bound, plus the builders of a Selection and its block-mask form.
 *
 * Conventions: one head at a time; q, k, v are [N, D] f32 row-major; scale = 1/sqrt(D);
 * s(r, j) = q_r · k_j · scale for the causal keys j <= r. Sums run in f64.
 */
import type { Selection } from './types';
import { Random } from '../util/random';

// ---------------------------------------------------------------------------------------------
// Selection storage and builders
// ---------------------------------------------------------------------------------------------

/** A Selection stored as CSR: row r owns intervals rowOffsets[r] .. rowOffsets[r + 1] - 1 of `bounds`. */
export class IntervalSelection implements Selection {
  readonly numRows: number;
  /** [numRows + 1] interval offsets per row. */
  readonly rowOffsets: Int32Array;
  /** [numIntervals, 2] start and end of each half-open key interval. */
  readonly bounds: Int32Array;

  constructor(numRows: number, rowOffsets: Int32Array, bounds: Int32Array) {
    if (rowOffsets.length !== numRows + 1 || bounds.length !== 2 * rowOffsets[numRows]) {
      throw new Error(
        `IntervalSelection: rowOffsets has ${rowOffsets.length} entries and bounds ${bounds.length}, ` +
          `expected ${numRows + 1} and 2 * rowOffsets[${numRows}]`,
      );
    }
    this.numRows = numRows;
    this.rowOffsets = rowOffsets;
    this.bounds = bounds;
  }

  rowIntervals(row: number): Int32Array {
    if (!Number.isInteger(row) || row < 0 || row >= this.numRows) {
      throw new RangeError(`IntervalSelection.rowIntervals: row ${row} is outside [0, ${this.numRows})`);
    }
    return this.bounds.subarray(2 * this.rowOffsets[row], 2 * this.rowOffsets[row + 1]);
  }
}

/**
 * Builds an IntervalSelection row by row. Within a row, intervals must arrive in order of their
 * start. An interval that overlaps or touches the previous one is merged into it, so the result
 * is sorted and disjoint.
 */
export class SelectionWriter {
  private bounds = new Int32Array(256);
  private length = 0;
  private readonly rowOffsets: Int32Array;
  private row = 0;

  constructor(readonly numRows: number) {
    this.rowOffsets = new Int32Array(numRows + 1);
  }

  /** Adds keys [start, end) to the current row; empty intervals are ignored. */
  add(start: number, end: number): void {
    if (end <= start) return;
    if (this.row >= this.numRows) {
      throw new Error(`SelectionWriter.add: all ${this.numRows} rows are already written`);
    }
    if (start < 0 || end > this.row + 1) {
      throw new Error(`SelectionWriter.add: interval [${start}, ${end}) of row ${this.row} is not within the causal keys [0, ${this.row + 1})`);
    }
    if (this.length > 2 * this.rowOffsets[this.row]) {
      const lastStart = this.bounds[this.length - 2];
      const lastEnd = this.bounds[this.length - 1];
      if (start < lastStart) {
        throw new Error(`SelectionWriter.add: interval [${start}, ${end}) of row ${this.row} starts before the previous one at ${lastStart}`);
      }
      if (start <= lastEnd) {
        if (end > lastEnd) this.bounds[this.length - 1] = end;
        return;
      }
    }
    if (this.length + 2 > this.bounds.length) {
      const grown = new Int32Array(this.bounds.length * 2);
      grown.set(this.bounds);
      this.bounds = grown;
    }
    this.bounds[this.length++] = start;
    this.bounds[this.length++] = end;
  }

  addKey(key: number): void {
    this.add(key, key + 1);
  }

  /** Closes the current row; the next add() goes to the following row. */
  endRow(): void {
    if (this.row >= this.numRows) {
      throw new Error(`SelectionWriter.endRow: all ${this.numRows} rows are already written`);
    }
    this.row++;
    this.rowOffsets[this.row] = this.length / 2;
  }

  finish(): IntervalSelection {
    if (this.row !== this.numRows) {
      throw new Error(`SelectionWriter.finish: ${this.row} of ${this.numRows} rows written`);
    }
    return new IntervalSelection(this.numRows, this.rowOffsets, this.bounds.slice(0, this.length));
  }
}

/** Builds a Selection from each row's key indices, in any order and with repeats; keys must be causal. */
export function selectionFromRowKeys(rowKeys: ArrayLike<ArrayLike<number>>): IntervalSelection {
  const writer = new SelectionWriter(rowKeys.length);
  for (let row = 0; row < rowKeys.length; row++) {
    const keys = Float64Array.from(rowKeys[row]).sort();
    for (const key of keys) {
      if (!Number.isInteger(key) || key < 0 || key > row) {
        throw new Error(`selectionFromRowKeys: key ${key} of row ${row} is not an integer in [0, ${row}]`);
      }
      writer.addKey(key);
    }
    writer.endRow();
  }
  return writer.finish();
}

/** Builds the dense causal selection: row r computes keys [0, r]. */
export function denseCausalSelection(numRows: number): IntervalSelection {
  const writer = new SelectionWriter(numRows);
  for (let row = 0; row < numRows; row++) {
    writer.add(0, row + 1);
    writer.endRow();
  }
  return writer.finish();
}

/**
 * Block-sparse form of a Selection, the input of a block-sparse kernel: query block qb holds rows
 * [qb·blockSize, (qb + 1)·blockSize) and computes the key blocks
 * keyBlocks[rowBlockOffsets[qb] .. rowBlockOffsets[qb + 1]), sorted ascending.
 */
export interface BlockMask {
  blockSize: number;
  numRows: number;
  /** [ceil(numRows / blockSize) + 1] CSR offsets into keyBlocks. */
  rowBlockOffsets: Int32Array;
  /** Key-block indices of every query block, concatenated. */
  keyBlocks: Int32Array;
}

export function numBlocks(numRows: number, blockSize: number): number {
  return Math.ceil(numRows / blockSize);
}

/** Builds a BlockMask from per-query-block lists of key blocks (any order, repeats allowed). */
export function blockMaskFromLists(numRows: number, blockSize: number, lists: ArrayLike<ArrayLike<number>>): BlockMask {
  const queryBlocks = numBlocks(numRows, blockSize);
  if (lists.length !== queryBlocks) {
    throw new Error(`blockMaskFromLists: ${lists.length} key-block lists, expected ${queryBlocks} (ceil(${numRows} / ${blockSize}))`);
  }
  const rowBlockOffsets = new Int32Array(queryBlocks + 1);
  const keyBlocks: number[] = [];
  for (let qb = 0; qb < queryBlocks; qb++) {
    const sorted = Array.from(lists[qb]).sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i++) {
      if (i === 0 || sorted[i] !== sorted[i - 1]) keyBlocks.push(sorted[i]);
    }
    rowBlockOffsets[qb + 1] = keyBlocks.length;
  }
  const mask = { blockSize, numRows, rowBlockOffsets, keyBlocks: Int32Array.from(keyBlocks) };
  checkBlockMask('blockMaskFromLists', mask);
  return mask;
}

/** Checks the CSR layout of a BlockMask and that each query block's key blocks are sorted, unique and in range. */
export function checkBlockMask(op: string, mask: BlockMask): void {
  const { blockSize, numRows, rowBlockOffsets, keyBlocks } = mask;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error(`${op}: block size ${blockSize} must be a positive integer`);
  const queryBlocks = numBlocks(numRows, blockSize);
  if (rowBlockOffsets.length !== queryBlocks + 1 || rowBlockOffsets[0] !== 0 || rowBlockOffsets[queryBlocks] !== keyBlocks.length) {
    throw new Error(
      `${op}: rowBlockOffsets has ${rowBlockOffsets.length} entries (expected ${queryBlocks + 1}, ` +
        `from 0 to keyBlocks.length ${keyBlocks.length})`,
    );
  }
  for (let qb = 0; qb < queryBlocks; qb++) {
    for (let i = rowBlockOffsets[qb]; i < rowBlockOffsets[qb + 1]; i++) {
      const kb = keyBlocks[i];
      const previous = i > rowBlockOffsets[qb] ? keyBlocks[i - 1] : -1;
      if (kb <= previous || kb >= queryBlocks) {
        throw new Error(`${op}: key block ${kb} of query block ${qb} is out of order or outside [0, ${queryBlocks})`);
      }
    }
  }
}

/** Expands a BlockMask into (row, key) intervals, clipping each key block causally at the row. */
export function selectionFromBlockMask(mask: BlockMask): IntervalSelection {
  checkBlockMask('selectionFromBlockMask', mask);
  const { blockSize, numRows, rowBlockOffsets, keyBlocks } = mask;
  const writer = new SelectionWriter(numRows);
  for (let row = 0; row < numRows; row++) {
    const qb = Math.floor(row / blockSize);
    for (let i = rowBlockOffsets[qb]; i < rowBlockOffsets[qb + 1]; i++) {
      const start = keyBlocks[i] * blockSize;
      if (start > row) break;
      writer.add(start, Math.min(start + blockSize, row + 1));
    }
    writer.endRow();
  }
  return writer.finish();
}

/**
 * Builds the smallest BlockMask that covers a Selection: query block qb lists every key block that
 * contains a selected key of one of its rows. Expanding the result again gives a superset of `sel`.
 */
export function selectionToBlockMask(sel: Selection, blockSize: number): BlockMask {
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new Error(`selectionToBlockMask: block size ${blockSize} must be a positive integer`);
  }
  const queryBlocks = numBlocks(sel.numRows, blockSize);
  const rowBlockOffsets = new Int32Array(queryBlocks + 1);
  const keyBlocks: number[] = [];
  // Stamp qb + 1 marks a key block as seen in query block qb, so the array is never cleared.
  const seen = new Int32Array(queryBlocks);
  for (let qb = 0; qb < queryBlocks; qb++) {
    const rowEnd = Math.min((qb + 1) * blockSize, sel.numRows);
    for (let row = qb * blockSize; row < rowEnd; row++) {
      const intervals = sel.rowIntervals(row);
      for (let i = 0; i < intervals.length; i += 2) {
        const lastBlock = Math.floor((intervals[i + 1] - 1) / blockSize);
        for (let kb = Math.floor(intervals[i] / blockSize); kb <= lastBlock; kb++) seen[kb] = qb + 1;
      }
    }
    // Causal keys of this block's rows lie in key blocks 0..qb.
    for (let kb = 0; kb <= qb; kb++) {
      if (seen[kb] === qb + 1) keyBlocks.push(kb);
    }
    rowBlockOffsets[qb + 1] = keyBlocks.length;
  }
  return { blockSize, numRows: sel.numRows, rowBlockOffsets, keyBlocks: Int32Array.from(keyBlocks) };
}

/** Throws unless every row's intervals are non-empty, sorted, disjoint and within [0, row]. */
export function checkSelection(sel: Selection, numRows?: number): void {
  if (numRows !== undefined && sel.numRows !== numRows) {
    throw new Error(`checkSelection: selection has ${sel.numRows} rows, expected ${numRows}`);
  }
  for (let row = 0; row < sel.numRows; row++) {
    const intervals = sel.rowIntervals(row);
    if (intervals.length % 2 !== 0) throw new Error(`checkSelection: row ${row} has an odd number of bounds (${intervals.length})`);
    let previousEnd = 0;
    for (let i = 0; i < intervals.length; i += 2) {
      const start = intervals[i];
      const end = intervals[i + 1];
      if (start >= end || start < previousEnd || end > row + 1) {
        throw new Error(
          `checkSelection: interval [${start}, ${end}) of row ${row} is empty, overlaps or precedes the previous one ` +
            `(ending at ${previousEnd}), or reaches past the row`,
        );
      }
      previousEnd = end;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------------------------

/** Throws unless q, k (and v when given) are [N, D]; `op` names the caller in the message. */
export function checkHeadInputs(op: string, N: number, D: number, q: Float32Array, k: Float32Array, v?: Float32Array): void {
  if (!Number.isInteger(N) || N < 1 || !Number.isInteger(D) || D < 1) {
    throw new Error(`${op}: N = ${N} and D = ${D} must be positive integers`);
  }
  const tensors: [string, Float32Array | undefined][] = [['q', q], ['k', k], ['v', v]];
  for (const [name, tensor] of tensors) {
    if (tensor !== undefined && tensor.length !== N * D) {
      throw new Error(`${op}: ${name} has ${tensor.length} elements, expected [N, D] = [${N}, ${D}] = ${N * D}`);
    }
  }
}

/** Writes s(row, j) for j = 0..row into out[0..row] and returns the row maximum. */
export function causalRowScores(q: Float32Array, k: Float32Array, D: number, row: number, out: Float64Array): number {
  const scale = 1 / Math.sqrt(D);
  const qOffset = row * D;
  let max = -Infinity;
  for (let j = 0; j <= row; j++) {
    const kOffset = j * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[qOffset + d] * k[kOffset + d];
    const score = dot * scale;
    out[j] = score;
    if (score > max) max = score;
  }
  return max;
}

/**
 * Writes the full causal softmax of `row` into out[0..row] (probabilities that sum to 1) and
 * returns the log-sum-exp of the row's scores.
 */
export function causalRowSoftmax(q: Float32Array, k: Float32Array, D: number, row: number, out: Float64Array): number {
  const max = causalRowScores(q, k, D, row, out);
  let sum = 0;
  for (let j = 0; j <= row; j++) {
    out[j] = Math.exp(out[j] - max);
    sum += out[j];
  }
  for (let j = 0; j <= row; j++) out[j] /= sum;
  return max + Math.log(sum);
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

export interface SelectionDensity {
  /** (row, key) pairs multiplied, anchor region and dense tail included. */
  computedPairs: number;
  /** N(N + 1)/2. */
  causalPairs: number;
  /** computedPairs / causalPairs. */
  density: number;
  sparsity: number;
  /** Pairs that come from stripes alone, when the method reports them. */
  stripePairs?: number;
  /** stripePairs / causalPairs: the stripes' share of the causal pairs. */
  stripeShare?: number;
}

/**
 * Counts the pairs a Selection computes. `stripes` gives the stripe-only part for methods that
 * have one (AnchorAttention): a Selection of the stripe pairs alone, or a per-row count of stripe keys.
 */
export function selectionDensity(sel: Selection, stripes?: Selection | ArrayLike<number>): SelectionDensity {
  const N = sel.numRows;
  const computedPairs = countPairs(sel);
  const causalPairs = (N * (N + 1)) / 2;
  const density = causalPairs > 0 ? computedPairs / causalPairs : 0;
  const result: SelectionDensity = { computedPairs, causalPairs, density, sparsity: 1 - density };
  if (stripes !== undefined) {
    let stripePairs = 0;
    if (isSelection(stripes)) {
      if (stripes.numRows !== N) throw new Error(`selectionDensity: stripes have ${stripes.numRows} rows, expected ${N}`);
      stripePairs = countPairs(stripes);
    } else {
      if (stripes.length !== N) throw new Error(`selectionDensity: ${stripes.length} per-row stripe counts, expected ${N}`);
      for (let row = 0; row < N; row++) stripePairs += stripes[row];
    }
    if (stripePairs > computedPairs) {
      throw new Error(`selectionDensity: ${stripePairs} stripe pairs exceed the ${computedPairs} computed pairs`);
    }
    result.stripePairs = stripePairs;
    result.stripeShare = causalPairs > 0 ? stripePairs / causalPairs : 0;
  }
  return result;
}

function isSelection(value: Selection | ArrayLike<number>): value is Selection {
  return typeof (value as Selection).rowIntervals === 'function';
}

function countPairs(sel: Selection): number {
  let pairs = 0;
  for (let row = 0; row < sel.numRows; row++) {
    const intervals = sel.rowIntervals(row);
    for (let i = 0; i < intervals.length; i += 2) pairs += intervals[i + 1] - intervals[i];
  }
  return pairs;
}

/** Returns the maximum speedup over dense of a sparse kernel that computes `density` of the causal pairs. */
export function workBound(density: number): number {
  if (!(density > 0 && density <= 1)) throw new RangeError(`workBound: density ${density} is outside (0, 1]`);
  return 1 / density;
}

export interface RecallStats {
  mean: number;
  /** 5th percentile, interpolated linearly between order statistics (NumPy's default). */
  p5: number;
  /** Recall of each requested row, in the order given. */
  perRow: Float64Array;
}

/**
 * Attention-mass recall: for each row, the softmax mass of the full causal row that falls on the
 * keys the Selection computes. 1 means the selection keeps all of the row's attention.
 */
export function attentionRecall(q: Float32Array, k: Float32Array, N: number, D: number, sel: Selection, rows: ArrayLike<number>): RecallStats {
  checkHeadInputs('attentionRecall', N, D, q, k);
  if (sel.numRows !== N) throw new Error(`attentionRecall: selection has ${sel.numRows} rows, expected N = ${N}`);
  if (rows.length === 0) throw new Error('attentionRecall: no rows to sample');
  const probabilities = new Float64Array(N);
  const perRow = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Number.isInteger(row) || row < 0 || row >= N) throw new Error(`attentionRecall: row ${row} is outside [0, ${N})`);
    causalRowSoftmax(q, k, D, row, probabilities);
    const intervals = sel.rowIntervals(row);
    let kept = 0;
    for (let t = 0; t < intervals.length; t += 2) {
      const end = Math.min(intervals[t + 1], row + 1);
      for (let j = intervals[t]; j < end; j++) kept += probabilities[j];
    }
    perRow[i] = kept;
  }
  let sum = 0;
  for (const value of perRow) sum += value;
  return { mean: sum / perRow.length, p5: percentile(perRow, 0.05), perRow };
}

/** Computes the p-quantile (p in [0, 1]) with linear interpolation between order statistics. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) throw new Error('percentile: no values');
  const sorted = Float64Array.from(values).sort();
  const position = p * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

/**
 * Rows to measure recall on: the last `last` rows, which see the most keys, plus `random` distinct
 * rows drawn with `seed` from the rest. Sorted ascending, no repeats; fewer when N is small.
 */
export function sampleRows(N: number, { last, random, seed }: { last: number; random: number; seed: number }): Int32Array {
  const lastCount = Math.max(0, Math.min(last, N));
  const pool = N - lastCount;
  const randomCount = Math.max(0, Math.min(random, pool));
  // Partial Fisher-Yates over [0, pool): the first randomCount entries become the sample.
  const candidates = new Int32Array(pool);
  for (let i = 0; i < pool; i++) candidates[i] = i;
  const rng = new Random(seed);
  for (let i = 0; i < randomCount; i++) {
    const pick = i + rng.int(pool - i);
    const swap = candidates[i];
    candidates[i] = candidates[pick];
    candidates[pick] = swap;
  }
  const rows = new Int32Array(randomCount + lastCount);
  rows.set(candidates.subarray(0, randomCount));
  for (let i = 0; i < lastCount; i++) rows[randomCount + i] = pool + i;
  return rows.sort();
}

export interface OutputFidelity {
  /** ||got - ref|| / ||ref||; 0 when both are zero, Infinity when only ref is. */
  relativeL2: number;
  /** got · ref / (||got|| ||ref||); 1 when both are zero, 0 when only one is. */
  cosine: number;
  /** Share of elements with |got - ref| <= tolerance (0.01 by default); the reference code's "recall". */
  withinTolerance: number;
  maxAbsError: number;
}

/** Compares a sparse method's attention output with dense attention's. A NaN in `got` counts as outside. */
export function outputFidelity(got: ArrayLike<number>, ref: ArrayLike<number>, tolerance = 0.01): OutputFidelity {
  if (got.length !== ref.length) throw new Error(`outputFidelity: got has ${got.length} elements, ref has ${ref.length}`);
  if (got.length === 0) throw new Error('outputFidelity: empty outputs');
  let diffSquared = 0;
  let refSquared = 0;
  let gotSquared = 0;
  let dot = 0;
  let within = 0;
  let maxAbsError = 0;
  for (let i = 0; i < ref.length; i++) {
    const error = Math.abs(got[i] - ref[i]);
    diffSquared += error * error;
    refSquared += ref[i] * ref[i];
    gotSquared += got[i] * got[i];
    dot += got[i] * ref[i];
    if (error <= tolerance) within++;
    if (!(error <= maxAbsError)) maxAbsError = error;
  }
  let relativeL2: number;
  if (refSquared > 0) relativeL2 = Math.sqrt(diffSquared / refSquared);
  else relativeL2 = diffSquared === 0 ? 0 : Infinity;
  let cosine: number;
  if (refSquared > 0 && gotSquared > 0) cosine = dot / Math.sqrt(refSquared * gotSquared);
  else if (Number.isNaN(gotSquared)) cosine = NaN;
  else cosine = refSquared === gotSquared ? 1 : 0;
  return { relativeL2, cosine, withinTolerance: within / ref.length, maxAbsError };
}

/**
 * Attention output restricted to a Selection: row r takes the softmax over its computed keys only
 * and averages their values. This is how every baseline's output is produced for fidelity.
 * A row with no computed key outputs zeros. Returns [N, D] f32.
 */
export function sparseAttentionFromSelection(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  N: number,
  D: number,
  sel: Selection,
): Float32Array {
  checkHeadInputs('sparseAttentionFromSelection', N, D, q, k, v);
  if (sel.numRows !== N) throw new Error(`sparseAttentionFromSelection: selection has ${sel.numRows} rows, expected N = ${N}`);
  const scale = 1 / Math.sqrt(D);
  const out = new Float32Array(N * D);
  const scores = new Float64Array(N);
  const acc = new Float64Array(D);
  for (let row = 0; row < N; row++) {
    const intervals = sel.rowIntervals(row);
    // Pass 1: scores of the computed keys and their maximum.
    let count = 0;
    let max = -Infinity;
    for (let t = 0; t < intervals.length; t += 2) {
      if (intervals[t] < 0 || intervals[t + 1] > row + 1) {
        throw new Error(`sparseAttentionFromSelection: interval [${intervals[t]}, ${intervals[t + 1]}) of row ${row} is not causal`);
      }
      for (let j = intervals[t]; j < intervals[t + 1]; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[row * D + d] * k[j * D + d];
        scores[count] = dot * scale;
        if (scores[count] > max) max = scores[count];
        count++;
      }
    }
    if (count === 0) continue;

    // Pass 2: softmax weights and the weighted sum of values.
    acc.fill(0);
    let sum = 0;
    let index = 0;
    for (let t = 0; t < intervals.length; t += 2) {
      for (let j = intervals[t]; j < intervals[t + 1]; j++) {
        const weight = Math.exp(scores[index++] - max);
        sum += weight;
        for (let d = 0; d < D; d++) acc[d] += weight * v[j * D + d];
      }
    }
    for (let d = 0; d < D; d++) out[row * D + d] = acc[d] / sum;
  }
  return out;
}
