/**
 * Attention-mass recall of sampled rows of one AnchorAttention group on the GPU
 * (shaders/anchor_recall.wgsl). It reads the KV cache where it already sits, so a 32k-token prompt
 * costs R rows of dense attention per group and no key leaves the GPU; the CPU alternative would
 * read back up to 32k keys per head, layer and group.
 */
import type { Tensor } from '../gpu/buffers';
import type { ComputeBatch } from '../gpu/dispatch';
import recallKernel from '../../shaders/anchor_recall.wgsl?raw';
import { anchorInitCount, type AnchorRegion } from './anchorPlan';
import { checkCache, checkInteger, checkTensor, composeCacheReader } from './kernelSupport';
import type { AttentionShape, LayerKvCache } from './types';

/** Threads per workgroup of the recall kernel: one (row, head) per workgroup, keys strided over threads. Power of two for the tree reduction. */
export const RECALL_WORKGROUP_SIZE = 64;

export interface AnchorRecallArgs {
  /** Queries of the sampled rows, [R, H, D] f32. */
  qRows: Tensor;
  /** Absolute positions of the sampled rows, [R] u32, all inside the group of `region`. */
  positions: Tensor;
  cache: LayerKvCache;
  shape: AttentionShape;
  region: AnchorRegion;
  /** The group's stripe lists: indices [H, C] u32 and counts [H] u32 from encodeAnchorPrefill over all heads. */
  indices: Tensor;
  counts: Tensor;
  maxCandidates: number;
  /** Output, [R, H] f32: the kept share of each row's softmax mass. */
  recall: Tensor;
}

/** Records the recall of R sampled rows of one group against the full causal softmax. */
export function encodeAnchorRecall(batch: ComputeBatch, args: AnchorRecallArgs): void {
  const { qRows, positions, cache, shape, region, indices, counts, maxCandidates: C, recall } = args;
  const op = 'encodeAnchorRecall';
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  checkCache(op, cache);
  if (cache.numKvHeads !== Hkv || cache.headDim !== D || H % Hkv !== 0) {
    throw new Error(`${op}: shape H ${H}, Hkv ${Hkv}, D ${D} does not match the cache [${Hkv}, ${cache.capacity}, ${D}]`);
  }
  const R = positions.shape[0] ?? 0;
  checkInteger(op, 'rows', R, 1);
  checkTensor(op, 'positions', positions, [R], 'u32');
  checkTensor(op, 'qRows', qRows, [R, H, D], 'f32');
  checkTensor(op, 'indices', indices, [H, C], 'u32');
  checkTensor(op, 'counts', counts, [H], 'u32');
  checkTensor(op, 'recall', recall, [R, H], 'f32');
  const maxPerDimension = batch.runtime.device.limits.maxComputeWorkgroupsPerDimension;
  if (R > maxPerDimension) throw new Error(`${op}: ${R} sampled rows exceed the ${maxPerDimension} workgroups per dimension`);

  const runtime = batch.runtime;
  const code = composeCacheReader(recallKernel, cache.dtype, { keysOnly: true });
  const pipeline = runtime.pipelines.get(`anchor_recall_${cache.dtype}`, code, 'main', { WORKGROUP_SIZE: RECALL_WORKGROUP_SIZE, HEAD_DIM: D });
  const uniform = batch.uniform([
    ['u32', R],
    ['u32', H],
    ['u32', H / Hkv],
    ['u32', cache.capacity],
    ['u32', C],
    ['f32', 1 / Math.sqrt(D)],
    ['u32', anchorInitCount(region)],
    ['u32', region.localStart],
  ]);
  // With no candidates the indices tensor is empty and cannot be bound, so counts (all zero then) stands in.
  const indicesBuffer = C === 0 ? counts.buffer : indices.buffer;
  batch.dispatch(pipeline, [uniform, qRows.buffer, positions.buffer, cache.k.buffer, indicesBuffer, counts.buffer, recall.buffer], [R, H]);
}
