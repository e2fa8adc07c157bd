/** Statistics of one prefill, sent by the worker in a `prefillStats` message and exported as JSON by the page. */
import type { AnchorRegion } from '../attention/anchorPlan';
import type { EncodedStripes } from '../attention/anchorStats';
import type { AnchorParams, AttentionMode } from '../attention/types';

/** Statistics options the page sends with a generate request. */
export interface PrefillStatsOptions {
  /** Collect statistics of an AnchorAttention prefill (stripe counts, density, stripe lists). */
  collect: boolean;
  /** Also run dense attention per chunk and per head: recall, relative L2 and per-head times. Costly. */
  detailed: boolean;
  /** Run a dense prefill of the same prompt after the sparse one to time it. */
  compareWithDense: boolean;
}

export const DEFAULT_PREFILL_STATS_OPTIONS: PrefillStatsOptions = { collect: true, detailed: false, compareWithDense: false };

/** Source of GPU times: timestamp queries, or CPU time around queue.onSubmittedWorkDone(). */
export type TimingSource = 'timestamp-query' | 'cpu';

export interface HeadStats {
  /** Stripe keys summed over the sparse groups. */
  stripes: number;
  /** Computed (row, key) pairs, anchor region and dense chunks included, over the causal pairs of the prefilled rows. */
  density: number;
  /** Stripe pairs over the causal pairs. */
  stripeShare: number;
  /** 1 / density: the most a sparse kernel can gain over dense. */
  workBound: number;
  /** Attention-mass recall over the sampled rows (detailed mode). */
  recallMean?: number;
  recallP5?: number;
  /** ||sparse − dense|| / ||dense|| over the rows of the sparse groups (detailed mode). */
  relativeL2?: number;
  /** Steps 1–2 (anchor and stripe selection), summed over groups; timestamp queries only. */
  selectMs?: number;
  /** Step 3 (sparse compute); timestamp queries only. */
  sparseMs?: number;
  /** Steps 1–3 of this head alone, summed over groups (detailed mode). */
  anchorMs?: number;
  /** Dense attention of this head alone on the same Q and KV cache (detailed mode). */
  denseMs?: number;
  /** denseMs / anchorMs. */
  speedup?: number;
}

export interface LayerStats {
  layer: number;
  heads: HeadStats[];
}

/** One prefill chunk: a sparse group with its regions, or a dense chunk (the tail, or a dense last group). */
export interface ChunkInfo {
  start: number;
  rows: number;
  region: AnchorRegion | null;
}

export interface PrefillStats {
  requestId: number;
  attention: AttentionMode['kind'];
  /** AnchorAttention parameters; absent for a dense run. */
  params?: AnchorParams;
  /** FNV-1a hash of the prompt token ids, to pair runs of the same prompt. */
  promptKey: string;
  promptTokens: number;
  reusedTokens: number;
  prefillTokens: number;
  /** Wall time of this run's prefill in the worker, less the time statistics collection took in between chunks. */
  prefillMs: number;
  /** Time the statistics collection added to the prefill (read-back, and the per-head runs of detailed mode). */
  statisticsMs: number;
  /** Dense prefill time of the same prompt and reused prefix, when known. */
  densePrefillMs?: number;
  /** 'measured': a dense prefill ran after this one; 'previous run': an earlier dense run of the same prompt. */
  denseSource?: 'measured' | 'previous run';
  /** densePrefillMs / prefillMs. */
  speedup?: number;
  /** Present for AnchorAttention runs that collected statistics. */
  anchor?: AnchorPrefillStats;
}

export interface AnchorPrefillStats {
  numLayers: number;
  numHeads: number;
  groupSize: number;
  detailed: boolean;
  /** Source of the per-head times; absent without detailed mode. */
  timing?: TimingSource;
  chunks: ChunkInfo[];
  /** Density of the anchor regions and dense chunks alone: every head's lower bound. */
  anchorOnlyDensity: number;
  /** [layer] statistics of each head. */
  layers: LayerStats[];
  /** [layer][head][chunk] selected stripe keys; empty runs for dense chunks. */
  stripes: EncodedStripes[][][];
  /** Absolute positions of the rows whose recall was measured (detailed mode). */
  sampledRows: number[];
}
