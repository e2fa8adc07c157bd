/**
 * Selection statistics of one AnchorAttention prefill, from the stripes the GPU selected: density
 * (anchor region and dense tail included), the stripe-only share, and attention-mass recall over
 * sampled rows against the full softmax. The definitions are those of src/attention/metrics.ts,
 * applied per head and pooled over heads.
 */
import { anchorChunkPlan, anchorInitCount, anchorRegion, type AnchorRegion } from '../src/attention/anchorPlan';
import { attentionRecall, percentile, sampleRows, selectionDensity } from '../src/attention/metrics';
import { DEFAULT_ANCHOR_PARAMS, SHORT_CONTEXT_ANCHOR_PARAMS, groupSize, type AnchorParams, type AttentionShape, type Selection } from '../src/attention/types';

/** Q, K, V of every head of one prompt: q [N, H, D], k and v [N, Hkv, D], f32 row-major. */
export interface AttentionInputs {
  N: number;
  shape: AttentionShape;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

/** One prefill chunk of G rows (fewer for the tail) and, for an anchor chunk, its stripes. */
export interface ChunkSelection {
  start: number;
  rows: number;
  plan: 'anchor' | 'dense';
  /** Null for a dense chunk. */
  region: AnchorRegion | null;
  /** Per query head: the selected stripe keys, ascending; empty for a dense chunk. */
  stripes: Int32Array[];
}

export interface SelectionStats {
  /** Computed (row, key) pairs over the causal pairs H · N(N + 1)/2. */
  density: number;
  /** Pairs that come from stripes alone, over the same causal pairs. */
  stripeShare: number;
  /** Mean attention-mass recall over the sampled rows of every head. */
  recallMean: number;
  /** 5th percentile of the same per-row recalls. */
  recallP5: number;
  /** Density of each head. */
  headDensity: number[];
  /** Rows sampled per head. */
  sampledRows: number;
}

export interface RecallSampling {
  /** The last rows, which attend the most keys. */
  last: number;
  /** Distinct rows drawn with `seed` from the others. */
  random: number;
  seed: number;
}

/** Parameter sets that suit a prompt of N tokens: each one from two of its groups on. */
export function paramSetsFor(N: number): { name: string; params: AnchorParams }[] {
  const sets = [
    { name: 'short-context', params: SHORT_CONTEXT_ANCHOR_PARAMS },
    { name: 'default', params: DEFAULT_ANCHOR_PARAMS },
  ];
  return sets.filter(({ params }) => N >= 2 * groupSize(params));
}

/** Splits a prompt of N rows into the chunks of G rows that chunked prefill runs, each with its plan. */
export function prefillChunks(N: number, params: AnchorParams): { start: number; rows: number; plan: 'anchor' | 'dense' }[] {
  const G = groupSize(params);
  const chunks: { start: number; rows: number; plan: 'anchor' | 'dense' }[] = [];
  for (let start = 0; start < N; start += G) {
    const rows = Math.min(G, N - start);
    chunks.push({ start, rows, plan: anchorChunkPlan(start, rows, N, params) });
  }
  return chunks;
}

/**
 * Builds the (row, key) pairs that head h computes: for a row of an anchor chunk, the init part of the
 * anchor region, the stripes and the causal local part; for a row of a dense chunk, keys 0 ..= row.
 * Intervals are built per call, so the selection of a long prompt stays small in memory.
 */
export function anchorHeadSelection(N: number, params: AnchorParams, chunks: ChunkSelection[], head: number): Selection {
  const G = groupSize(params);
  if (chunks.length !== Math.ceil(N / G)) {
    throw new Error(`anchorHeadSelection: ${chunks.length} chunks, expected ceil(${N} / ${G}) = ${Math.ceil(N / G)}`);
  }
  return {
    numRows: N,
    rowIntervals(row: number): Int32Array {
      if (!Number.isInteger(row) || row < 0 || row >= N) throw new RangeError(`anchorHeadSelection: row ${row} is outside [0, ${N})`);
      const chunk = chunks[Math.floor(row / G)];
      if (chunk.plan === 'dense' || chunk.region === null) return Int32Array.of(0, row + 1);
      return anchorRowIntervals(chunk.region, chunk.stripes[head], row);
    },
  };
}

/** Sorted disjoint intervals of an anchor row: [0, init), each stripe, [localStart, row]; touching ones merge. */
function anchorRowIntervals(region: AnchorRegion, stripes: Int32Array, row: number): Int32Array {
  const bounds = new Int32Array(2 * (stripes.length + 2));
  let length = 0;
  const push = (start: number, end: number) => {
    if (end <= start) return;
    if (length > 0 && bounds[length - 1] === start) bounds[length - 1] = end;
    else {
      bounds[length++] = start;
      bounds[length++] = end;
    }
  };
  push(0, Math.min(anchorInitCount(region), row + 1));
  for (const key of stripes) push(key, key + 1);
  push(region.localStart, row + 1);
  return bounds.slice(0, length);
}

/** Rebuilds the chunk list from per-chunk stripe lists, filling in the regions and plans. */
export function chunkSelections(N: number, params: AnchorParams, stripes: (Int32Array[] | null)[]): ChunkSelection[] {
  const chunks = prefillChunks(N, params);
  if (stripes.length !== chunks.length) throw new Error(`chunkSelections: ${stripes.length} stripe lists for ${chunks.length} chunks`);
  const G = groupSize(params);
  return chunks.map((chunk, index) => {
    const lists = stripes[index];
    if (chunk.plan === 'dense') return { ...chunk, region: null, stripes: [] };
    if (!lists) throw new Error(`chunkSelections: anchor chunk at ${chunk.start} has no stripe lists`);
    return { ...chunk, region: anchorRegion(chunk.start / G, params), stripes: lists };
  });
}

/** Copies head h of an [N, heads, D] tensor into an [N, D] array. */
export function headRows(data: Float32Array, N: number, heads: number, D: number, h: number): Float32Array {
  const out = new Float32Array(N * D);
  for (let t = 0; t < N; t++) out.set(data.subarray((t * heads + h) * D, (t * heads + h + 1) * D), t * D);
  return out;
}

/** Density, stripe share and recall of an AnchorAttention prefill whose stripes are `chunks`. */
export function anchorSelectionStats(inputs: AttentionInputs, params: AnchorParams, chunks: ChunkSelection[], sampling: RecallSampling): SelectionStats {
  const { N, shape } = inputs;
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const rows = sampleRows(N, sampling);
  const recalls: number[] = [];
  const headDensity: number[] = [];
  let computedPairs = 0;
  let stripePairs = 0;
  let causalPairs = 0;
  const keysOfKvHead = new Map<number, Float32Array>();
  for (let h = 0; h < H; h++) {
    const selection = anchorHeadSelection(N, params, chunks, h);
    const stripeCounts = new Float64Array(N);
    for (const chunk of chunks) {
      if (chunk.plan === 'anchor') stripeCounts.fill(chunk.stripes[h].length, chunk.start, chunk.start + chunk.rows);
    }
    const density = selectionDensity(selection, stripeCounts);
    computedPairs += density.computedPairs;
    stripePairs += density.stripePairs ?? 0;
    causalPairs += density.causalPairs;
    headDensity.push(density.density);

    const kvh = Math.floor(h / (H / Hkv));
    let k = keysOfKvHead.get(kvh);
    if (!k) {
      k = headRows(inputs.k, N, Hkv, D, kvh);
      keysOfKvHead.set(kvh, k);
    }
    const recall = attentionRecall(headRows(inputs.q, N, H, D, h), k, N, D, selection, rows);
    recalls.push(...recall.perRow);
  }
  const recallMean = recalls.reduce((sum, value) => sum + value, 0) / recalls.length;
  return {
    density: computedPairs / causalPairs,
    stripeShare: stripePairs / causalPairs,
    recallMean,
    recallP5: percentile(recalls, 0.05),
    headDensity,
    sampledRows: rows.length,
  };
}
