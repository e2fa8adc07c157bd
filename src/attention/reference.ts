/**
 * Plain-loop TypeScript references of dense causal attention and AnchorAttention over a whole
 * prompt, in f64 arithmetic on f32 inputs. Used by tests, metrics and benchmarks, never by the app.
 *
 * Shapes: q (N, H, D); k, v (N, Hkv, D); out (N, H, D). Query head h reads KV head h / (H / Hkv),
 * scores s(r, j) = q_r · k_j / sqrt(D), causal (j <= r).
 */
import { anchorChunkPlan, anchorInitCount, anchorRegion, checkAnchorParams, type AnchorRegion } from './anchorPlan';
import { groupSize, type AnchorParams, type AttentionShape, type Selection } from './types';

function checkInputs(name: string, q: Float32Array, k: Float32Array, v: Float32Array, N: number, shape: AttentionShape): void {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  if (H % Hkv !== 0) throw new Error(`${name}: numHeads ${H} is not a multiple of numKvHeads ${Hkv}`);
  const sizes: [string, Float32Array, number][] = [
    ['q', q, N * H * D],
    ['k', k, N * Hkv * D],
    ['v', v, N * Hkv * D],
  ];
  for (const [tensor, data, expected] of sizes) {
    if (data.length < expected) throw new Error(`${name}: ${tensor} has ${data.length} elements, ${expected} required for N = ${N}`);
  }
}

/** Scaled score of query row r, head h against key j of KV head kvh. */
function score(q: Float32Array, k: Float32Array, r: number, h: number, j: number, kvh: number, shape: AttentionShape): number {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const q_rh = (r * H + h) * D;
  const k_jh = (j * Hkv + kvh) * D;
  let dot = 0;
  for (let d = 0; d < D; d++) dot += q[q_rh + d] * k[k_jh + d];
  return dot / Math.sqrt(D);
}

/**
 * Writes softmax(s(r, keys)) · V for row r, head h into out, where `keys` is a list of
 * disjoint half-open intervals [start, end) flattened as pairs.
 */
function attendIntervals(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  r: number,
  h: number,
  intervals: ArrayLike<number>,
  shape: AttentionShape,
  out: Float32Array,
): void {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const kvh = Math.floor(h / (H / Hkv));
  // pass 1: the row max over the listed keys
  let max = -Infinity;
  for (let i = 0; i < intervals.length; i += 2) {
    for (let j = intervals[i]; j < intervals[i + 1]; j++) max = Math.max(max, score(q, k, r, h, j, kvh, shape));
  }
  // pass 2: exponentials, their sum and the weighted sum of values
  const acc = new Float64Array(D);
  let sum = 0;
  for (let i = 0; i < intervals.length; i += 2) {
    for (let j = intervals[i]; j < intervals[i + 1]; j++) {
      const p = Math.exp(score(q, k, r, h, j, kvh, shape) - max);
      sum += p;
      const v_jh = (j * Hkv + kvh) * D;
      for (let d = 0; d < D; d++) acc[d] += p * v[v_jh + d];
    }
  }
  // pass 3: normalise
  const out_rh = (r * H + h) * D;
  for (let d = 0; d < D; d++) out[out_rh + d] = acc[d] / sum;
}

/** Dense causal attention: out (N, H, D) with row r attending keys 0 ..= r. */
export function denseAttentionReference(q: Float32Array, k: Float32Array, v: Float32Array, N: number, shape: AttentionShape): Float32Array {
  checkInputs('denseAttentionReference', q, k, v, N, shape);
  const out = new Float32Array(N * shape.numHeads * shape.headDim);
  for (let r = 0; r < N; r++) {
    for (let h = 0; h < shape.numHeads; h++) attendIntervals(q, k, v, r, h, [0, r + 1], shape, out);
  }
  return out;
}

/** Appends [start, end) to a flat interval list, merging it with the last interval when they touch. */
function pushInterval(list: number[], start: number, end: number): void {
  if (end <= start) return;
  if (list.length > 0 && list[list.length - 1] === start) list[list.length - 1] = end;
  else list.push(start, end);
}

/** Sorted disjoint key intervals of anchor row r: init part, stripes (sorted keys), local part. */
function anchorRowIntervals(region: AnchorRegion, stripes: ArrayLike<number>, r: number): Int32Array {
  const list: number[] = [];
  pushInterval(list, 0, Math.min(anchorInitCount(region), r + 1));
  for (let i = 0; i < stripes.length; i++) pushInterval(list, stripes[i], stripes[i] + 1);
  pushInterval(list, region.localStart, r + 1);
  return Int32Array.from(list);
}

export interface AnchorReferenceOptions {
  /**
   * Stripe lists to use instead of the thresholded ones, per (group, head), for example the GPU's
   * selection, so that outputs can be compared where a key's score sits on the threshold.
   * Returning undefined keeps the reference's own list.
   */
  stripes?: (group: number, head: number) => ArrayLike<number> | undefined;
}

export interface AnchorReferenceResult {
  /** Attention output (N, H, D). */
  out: Float32Array;
  /** Plan of each group of G rows: 'anchor', or 'dense' for the tail and a dense last group. */
  plans: ('anchor' | 'dense')[];
  /** Regions of each group; null for a dense group. */
  anchorRegion: (AnchorRegion | null)[];
  /** Sorted stripe keys per [group][head]; empty for a dense group. */
  selected: Int32Array[][];
  /**
   * Candidate scores max_p (q̄_p · k_j · scale − ā_p) per [group][head], at index j − candidateStart
   * for candidate key j. The arrays of a dense group are empty.
   */
  candidateScores: Float64Array[][];
  /** Per-row anchor x_a(r) = m_r (the max over the anchor region) per [head], indexed by row; NaN for dense rows. */
  anchors: Float64Array[];
  /** The (row, key) pairs computed, per head: anchor region and stripes, or all causal keys for dense rows. */
  selection: Selection[];
}

/**
 * Computes AnchorAttention over a whole prompt of N tokens, group by group, with the chunk plan
 * of anchorChunkPlan. For an anchor group g and row r: the anchor region A_g(r) =
 * [0, initGroups·G) ∪ [(g − localGroups + 1)·G, r] (causal), the anchor m_r = max over A_g(r) of
 * s(r, ·), and for each sub-block p of b rows the mean query q̄_p and mean anchor ā_p. Candidate key j
 * in [initGroups·G, (g − localGroups + 1)·G) is a stripe of the group when
 * max_p (q̄_p · k_j · scale − ā_p) >= −theta. Row r's output is the softmax over A_g(r) and the stripes.
 */
export function anchorAttentionReference(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  N: number,
  shape: AttentionShape,
  params: AnchorParams,
  options: AnchorReferenceOptions = {},
): AnchorReferenceResult {
  const name = 'anchorAttentionReference';
  checkInputs(name, q, k, v, N, shape);
  checkAnchorParams(name, params);
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const G = groupSize(params);
  const b = params.blockSize;
  const groupCount = Math.ceil(N / G);
  const out = new Float32Array(N * H * D);
  const plans: ('anchor' | 'dense')[] = [];
  const regions: (AnchorRegion | null)[] = [];
  const selected: Int32Array[][] = [];
  const candidateScores: Float64Array[][] = [];
  const anchors = Array.from({ length: H }, () => new Float64Array(N).fill(NaN));

  for (let g = 0; g < groupCount; g++) {
    const rowStart = g * G;
    const rowEnd = Math.min(N, rowStart + G);
    const plan = anchorChunkPlan(rowStart, rowEnd - rowStart, N, params);
    plans.push(plan);
    if (plan === 'dense') {
      regions.push(null);
      selected.push(Array.from({ length: H }, () => new Int32Array(0)));
      candidateScores.push(Array.from({ length: H }, () => new Float64Array(0)));
      for (let r = rowStart; r < rowEnd; r++) {
        for (let h = 0; h < H; h++) attendIntervals(q, k, v, r, h, [0, r + 1], shape, out);
      }
      continue;
    }

    const region = anchorRegion(g, params);
    regions.push(region);
    const candidateCount = region.candidateEnd - region.candidateStart;
    const groupSelected: Int32Array[] = [];
    const groupScores: Float64Array[] = [];
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / Hkv));

      // pass 1: anchors m_r over the anchor region
      for (let r = rowStart; r < rowEnd; r++) {
        const intervals = anchorRowIntervals(region, [], r);
        let max = -Infinity;
        for (let i = 0; i < intervals.length; i += 2) {
          for (let j = intervals[i]; j < intervals[i + 1]; j++) max = Math.max(max, score(q, k, r, h, j, kvh, shape));
        }
        anchors[h][r] = max;
      }

      // pass 2: mean query and mean anchor of each sub-block, then the candidate scores
      const qMeans: Float64Array[] = [];
      const anchorMeans: number[] = [];
      for (let p = 0; p < params.step; p++) {
        const qMean = new Float64Array(D);
        let anchorSum = 0;
        for (let r = rowStart + p * b; r < rowStart + (p + 1) * b; r++) {
          const q_rh = (r * H + h) * D;
          for (let d = 0; d < D; d++) qMean[d] += q[q_rh + d];
          anchorSum += anchors[h][r];
        }
        for (let d = 0; d < D; d++) qMean[d] /= b;
        qMeans.push(qMean);
        anchorMeans.push(anchorSum / b);
      }
      const scores = new Float64Array(candidateCount);
      const keys: number[] = [];
      for (let c = 0; c < candidateCount; c++) {
        const j = region.candidateStart + c;
        const k_jh = (j * Hkv + kvh) * D;
        let best = -Infinity;
        for (let p = 0; p < params.step; p++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qMeans[p][d] * k[k_jh + d];
          best = Math.max(best, dot / Math.sqrt(D) - anchorMeans[p]);
        }
        scores[c] = best;
        if (best >= -params.theta) keys.push(j);
      }
      const override = options.stripes?.(g, h);
      const stripes = override ? Int32Array.from(override) : Int32Array.from(keys);
      for (let i = 0; i < stripes.length; i++) {
        const outside = stripes[i] < region.candidateStart || stripes[i] >= region.candidateEnd;
        if (outside || (i > 0 && stripes[i] <= stripes[i - 1])) {
          throw new Error(
            `${name}: stripes of group ${g}, head ${h} must be ascending keys in [${region.candidateStart}, ${region.candidateEnd}), got ${stripes[i]} at index ${i}`,
          );
        }
      }
      groupSelected.push(stripes);
      groupScores.push(scores);

      // pass 3: each row over its anchor region and the stripes
      for (let r = rowStart; r < rowEnd; r++) attendIntervals(q, k, v, r, h, anchorRowIntervals(region, stripes, r), shape, out);
    }
    selected.push(groupSelected);
    candidateScores.push(groupScores);
  }

  const selection = Array.from({ length: H }, (_, h): Selection => ({
    numRows: N,
    rowIntervals(row: number): Int32Array {
      if (!Number.isInteger(row) || row < 0 || row >= N) throw new Error(`Selection.rowIntervals: row ${row} is outside 0 .. ${N - 1}`);
      const g = Math.floor(row / G);
      const region = regions[g];
      return region ? anchorRowIntervals(region, selected[g][h], row) : Int32Array.of(0, row + 1);
    },
  }));

  return { out, plans, anchorRegion: regions, selected, candidateScores, anchors, selection };
}
