import type { Tensor } from '../gpu/buffers';

/** One layer's KV cache: keys and values apart, each [numKvHeads, capacity, headDim]. */
export interface LayerKvCache {
  k: Tensor;
  v: Tensor;
  /** 'f16' stores two halves per u32 (headDim is even); 'f32' one float per element. */
  dtype: 'f32' | 'f16';
  capacity: number;
  numKvHeads: number;
  headDim: number;
}

/** Head geometry shared by every attention op. Query head h reads KV head h / (numHeads / numKvHeads). */
export interface AttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/** AnchorAttention parameters; group size G = blockSize * step. */
export interface AnchorParams {
  /** Pooling block b: rows per sub-block whose mean query and mean anchor are taken. */
  blockSize: number;
  /** Step s: sub-blocks per group. */
  step: number;
  /** Threshold theta in nats; a key is kept when some sub-block's mean score is within theta of its mean anchor. */
  theta: number;
  /** Groups at the start of the sequence that every row attends (the init region). */
  initGroups: number;
  /** Groups ending at the current one that every row attends causally (the local region). */
  localGroups: number;
  /** Compute the last group densely instead of sparsely. */
  denseLastGroup: boolean;
}

export const DEFAULT_ANCHOR_PARAMS: AnchorParams = {
  blockSize: 128,
  step: 16,
  theta: 12,
  initGroups: 1,
  localGroups: 1,
  denseLastGroup: false,
};

/** A smaller group (G = 512) for prompts of a few thousand tokens. */
export const SHORT_CONTEXT_ANCHOR_PARAMS: AnchorParams = { ...DEFAULT_ANCHOR_PARAMS, blockSize: 64, step: 8 };

export function groupSize(params: AnchorParams): number {
  return params.blockSize * params.step;
}

/** How prefill attention runs for one request; decode is always dense. */
export type AttentionMode = { kind: 'dense' } | { kind: 'anchor'; params: AnchorParams };

/**
 * The (query row, key) pairs one method computes for one head of an N-token prompt:
 * per row, sorted disjoint half-open key intervals [start, end), flattened as pairs,
 * with every key <= row. Metrics and the block-sparse kernel both read this form.
 */
export interface Selection {
  numRows: number;
  rowIntervals(row: number): Int32Array;
}
