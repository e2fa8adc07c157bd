/**
 * AnchorAttention prefill for one query group of G = blockSize * step rows, in three steps:
 * 1. anchor (shaders/anchor_1_anchor.wgsl): online softmax state over the anchor region, anchor = m;
 * 2. stripe selection (anchor_2_pool, anchor_2_select, anchor_2_compact): candidate keys between the
 *    init and local regions whose best sub-block score is within theta of the mean anchor;
 * 3. sparse compute (anchor_3_sparse.wgsl): the state of step 1 continued over the selected keys.
 */
import type { Tensor } from '../gpu/buffers';
import type { ComputeBatch } from '../gpu/dispatch';
import anchorKernel from '../../shaders/anchor_1_anchor.wgsl?raw';
import compactKernel from '../../shaders/anchor_2_compact.wgsl?raw';
import poolKernel from '../../shaders/anchor_2_pool.wgsl?raw';
import selectKernel from '../../shaders/anchor_2_select.wgsl?raw';
import sparseKernel from '../../shaders/anchor_3_sparse.wgsl?raw';
import { composeShader } from '../gpu/shader';
import { anchorInitCount, anchorRegion, checkAnchorParams, type AnchorRegion } from './anchorPlan';
import { FLASH_BLOCK_M, checkInteger, checkRows, checkShape, composeCacheReader, flashConstants } from './kernelSupport';
import { checkHeadRange } from './headRange';
import { groupSize, type AnchorParams, type AttentionShape, type LayerKvCache } from './types';

export { anchorChunkPlan, anchorRegion, type AnchorRegion } from './anchorPlan';

/** Threads per workgroup of the pooling kernel (over the head dimension). */
export const ANCHOR_POOL_WORKGROUP_SIZE = 64;
/** Candidate keys per workgroup of the selection and compaction kernels (one per thread). */
export const ANCHOR_SELECT_BLOCK = 64;
/** Largest finite f32 magnitude used for theta, because WGSL drivers may assume no infinities. */
const FINITE_THETA_LIMIT = 3.0e38;

export interface AnchorPrefillArgs {
  /** Queries of the group, [T >= G, H, D] f32; rows 0 .. G - 1 are used. */
  q: Tensor;
  /** KV cache already holding keys 0 .. start + G - 1. */
  cache: LayerKvCache;
  /** Absolute position of row 0: g * G. */
  start: number;
  /** Must equal G; shorter chunks go through the dense kernel (see anchorChunkPlan). */
  rows: number;
  shape: AttentionShape;
  params: AnchorParams;
  /** Output, [T >= G, H, D] f32. */
  out: Tensor;
  /** Profiler labels: steps 1 and 2 are selection time, step 3 is sparse compute time. */
  timing?: { select: string; sparse: string };
  /** First query head to compute (default 0); heads outside the range keep their `out` values. */
  headStart?: number;
  /** Query heads to compute from headStart, at least 1 (default all the rest). */
  headCount?: number;
}

/** GPU buffers of one group's selection, readable after the batch is submitted. */
export interface AnchorGroupResult {
  group: number;
  region: AnchorRegion;
  /** C = candidateEnd − candidateStart: the row length of `indices` and `scores`. */
  maxCandidates: number;
  /** First query head of the run; row i of indices, counts and scores is head headStart + i. */
  headStart: number;
  /** Hc, the heads run (H unless a head range was given). */
  headCount: number;
  /** [Hc, C] u32: per head, the selected keys in ascending order; the first counts[i] entries are valid. */
  indices: Tensor;
  /** [Hc] u32: selected keys per head. */
  counts: Tensor;
  /** [Hc, C] f32: candidate scores max_p (q̄_p · k_j · scale − ā_p) of keys candidateStart + c. */
  scores: Tensor;
  /** Destroys the temporaries; call after the batch that recorded them has completed. */
  dispose(): void;
}

/**
 * Records AnchorAttention for group g = start / G: rows start .. start + G - 1 attend their anchor
 * region and the group's stripes, and `out` receives the normalised result. Throws unless the chunk
 * is one whole aligned group.
 */
export function encodeAnchorPrefill(batch: ComputeBatch, args: AnchorPrefillArgs): AnchorGroupResult {
  const { q, cache, start, rows, shape, params, out, timing } = args;
  const op = 'encodeAnchorPrefill';
  checkShape(op, shape, cache);
  checkAnchorParams(op, params);
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const { headStart, headCount: Hc } = checkHeadRange(op, H, args.headStart, args.headCount);
  if (Hc === 0) throw new Error(`${op}: headCount must be at least 1, got 0`);
  const G = groupSize(params);
  checkInteger(op, 'start', start, 0);
  if (start % G !== 0 || rows !== G) {
    throw new Error(`${op}: a chunk must be one whole group of G = ${G} rows at a multiple of G, got rows ${rows} at start ${start}`);
  }
  if (start + rows > cache.capacity) {
    throw new Error(`${op}: rows at positions ${start} .. ${start + rows - 1} need keys past the KV cache capacity ${cache.capacity}`);
  }
  checkRows(op, 'q', q, rows, [H, D], 'f32');
  checkRows(op, 'out', out, rows, [H, D], 'f32');

  const runtime = batch.runtime;
  const allocator = runtime.allocator;
  const maxPerDimension = runtime.device.limits.maxComputeWorkgroupsPerDimension;
  const group = start / G;
  const region = anchorRegion(group, params);
  const C = region.candidateEnd - region.candidateStart;
  const numBlocks = Math.ceil(C / ANCHOR_SELECT_BLOCK);
  if (numBlocks > maxPerDimension) {
    throw new Error(`${op}: ${C} candidate keys need ${numBlocks} workgroups, more than this GPU's ${maxPerDimension} per dimension`);
  }
  const scale = 1 / Math.sqrt(D);
  const rowTiles = Math.ceil(G / FLASH_BLOCK_M);

  const temporaries: Tensor[] = [];
  const temporary = (label: string, dims: number[], dtype: 'f32' | 'u32'): Tensor => {
    const tensor = allocator.createTensor(`anchor g${group} ${label}`, dims, dtype);
    temporaries.push(tensor);
    return tensor;
  };
  const stats = temporary('stats (m, l)', [Hc, G, 2], 'f32');
  const accState = temporary('acc', [Hc, G, D], 'f32');
  const indices = temporary('indices', [Hc, C], 'u32');
  const counts = temporary('counts', [Hc], 'u32');
  const scores = temporary('scores', [Hc, C], 'f32');

  // Step 1: anchor region, state kept in stats and accState.
  {
    const code = composeCacheReader(anchorKernel, cache.dtype, { flash: true });
    const pipeline = runtime.pipelines.get(`anchor_1_anchor_${cache.dtype}`, code, 'main', flashConstants(D));
    const uniform = batch.uniform([
      ['u32', G],
      ['u32', start],
      ['u32', H],
      ['u32', H / Hkv],
      ['u32', cache.capacity],
      ['f32', scale],
      ['u32', anchorInitCount(region)],
      ['u32', region.localStart],
      ['u32', headStart],
    ]);
    batch.dispatch(pipeline, [uniform, q.buffer, cache.k.buffer, cache.v.buffer, stats.buffer, accState.buffer], [rowTiles, Hc], timing?.select);
  }

  if (C === 0) {
    // No key lies between the regions, so every head selects nothing.
    batch.encoder.clearBuffer(counts.buffer);
  } else {
    // Step 2a: mean query and mean anchor per sub-block.
    const qMean = temporary('q mean', [Hc, params.step, D], 'f32');
    const anchorMean = temporary('anchor mean', [Hc, params.step], 'f32');
    {
      const code = composeShader([poolKernel]);
      const pipeline = runtime.pipelines.get('anchor_2_pool', code, 'main', { WORKGROUP_SIZE: ANCHOR_POOL_WORKGROUP_SIZE });
      const uniform = batch.uniform([
        ['u32', params.blockSize],
        ['u32', params.step],
        ['u32', H],
        ['u32', D],
        ['u32', headStart],
      ]);
      batch.dispatch(pipeline, [uniform, q.buffer, stats.buffer, qMean.buffer, anchorMean.buffer], [params.step, Hc], timing?.select);
    }

    // Step 2b: candidate scores, flags and per-block counts.
    const flags = temporary('flags', [Hc, C], 'u32');
    const blockCounts = temporary('block counts', [Hc, numBlocks], 'u32');
    {
      const code = composeCacheReader(selectKernel, cache.dtype, { keysOnly: true });
      const pipeline = runtime.pipelines.get(`anchor_2_select_${cache.dtype}`, code, 'main', {
        WORKGROUP_SIZE: ANCHOR_SELECT_BLOCK,
        HEAD_DIM: D,
      });
      const theta = Math.min(Math.max(params.theta, -FINITE_THETA_LIMIT), FINITE_THETA_LIMIT);
      const uniform = batch.uniform([
        ['u32', region.candidateStart],
        ['u32', C],
        ['u32', Hc],
        ['u32', H / Hkv],
        ['u32', cache.capacity],
        ['u32', params.step],
        ['f32', scale],
        ['f32', -theta],
        ['u32', numBlocks],
        ['u32', headStart],
      ]);
      const bindings = [uniform, qMean.buffer, anchorMean.buffer, cache.k.buffer, scores.buffer, flags.buffer, blockCounts.buffer];
      batch.dispatch(pipeline, bindings, [numBlocks, Hc], timing?.select);
    }

    // Step 2c: sorted key list per head. Every array it reads and writes has Hc rows, so it needs no head offset.
    {
      const code = composeShader([compactKernel]);
      const pipeline = runtime.pipelines.get('anchor_2_compact', code, 'main', { WORKGROUP_SIZE: ANCHOR_SELECT_BLOCK });
      const uniform = batch.uniform([
        ['u32', region.candidateStart],
        ['u32', C],
        ['u32', Hc],
        ['u32', numBlocks],
      ]);
      batch.dispatch(pipeline, [uniform, flags.buffer, blockCounts.buffer, indices.buffer, counts.buffer], [numBlocks, Hc], timing?.select);
    }
  }

  // Step 3: continue each row's softmax over its head's stripes and normalise.
  {
    const code = composeCacheReader(sparseKernel, cache.dtype, { flash: true });
    const pipeline = runtime.pipelines.get(`anchor_3_sparse_${cache.dtype}`, code, 'main', flashConstants(D));
    const uniform = batch.uniform([
      ['u32', G],
      ['u32', H],
      ['u32', H / Hkv],
      ['u32', cache.capacity],
      ['u32', C],
      ['f32', scale],
      ['u32', headStart],
    ]);
    const bindings = [uniform, q.buffer, cache.k.buffer, cache.v.buffer, stats.buffer, accState.buffer, indices.buffer, counts.buffer, out.buffer];
    batch.dispatch(pipeline, bindings, [rowTiles, Hc], timing?.sparse);
  }

  return {
    group,
    region,
    maxCandidates: C,
    headStart,
    headCount: Hc,
    indices,
    counts,
    scores,
    dispose: () => temporaries.splice(0).forEach((tensor) => allocator.destroyTensor(tensor)),
  };
}
