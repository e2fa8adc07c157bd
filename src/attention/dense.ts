import type { Tensor } from '../gpu/buffers';
import type { ComputeBatch } from '../gpu/dispatch';
import flashKernel from '../../shaders/attention_v1_flash.wgsl?raw';
import { FLASH_BLOCK_M, checkInteger, checkRows, checkShape, composeCacheReader, flashConstants } from './kernelSupport';
import { checkHeadRange } from './headRange';
import type { AttentionShape, LayerKvCache } from './types';

export interface DensePrefillArgs {
  /** Queries of the chunk, [T, H, D] f32; the first `rows` rows are computed. */
  q: Tensor;
  /** KV cache already holding keys 0 .. start + rows - 1. */
  cache: LayerKvCache;
  /** Absolute position of query row 0. */
  start: number;
  rows: number;
  shape: AttentionShape;
  /** Output, [T, H, D] f32; rows past `rows` are left untouched. */
  out: Tensor;
  /** Profiler label of the pass. */
  timing?: string;
  /** First query head to compute (default 0); heads outside the range keep their `out` values. */
  headStart?: number;
  /** Query heads to compute from headStart (default all the rest). */
  headCount?: number;
}

/**
 * Records causal attention for `rows` query rows at positions start .. start + rows - 1 over the
 * cached keys 0 ..= position, with GQA and scale 1/sqrt(D) (shaders/attention_v1_flash.wgsl).
 */
export function encodeDensePrefillAttention(batch: ComputeBatch, args: DensePrefillArgs): void {
  const { q, cache, start, rows, shape, out, timing } = args;
  const op = 'encodeDensePrefillAttention';
  checkShape(op, shape, cache);
  const { numHeads, numKvHeads, headDim } = shape;
  const { headStart, headCount } = checkHeadRange(op, numHeads, args.headStart, args.headCount);
  checkInteger(op, 'rows', rows, 0);
  checkInteger(op, 'start', start, 0);
  if (start + rows > cache.capacity) {
    throw new Error(`${op}: rows at positions ${start} .. ${start + rows - 1} need keys past the KV cache capacity ${cache.capacity}`);
  }
  checkRows(op, 'q', q, rows, [numHeads, headDim], 'f32');
  checkRows(op, 'out', out, rows, [numHeads, headDim], 'f32');
  if (rows === 0 || headCount === 0) return;

  const runtime = batch.runtime;
  const code = composeCacheReader(flashKernel, cache.dtype, { flash: true });
  const pipeline = runtime.pipelines.get(`attention_v1_flash_${cache.dtype}`, code, 'main', flashConstants(headDim));
  const params = batch.uniform([
    ['u32', rows],
    ['u32', start],
    ['u32', numHeads],
    ['u32', numHeads / numKvHeads],
    ['u32', cache.capacity],
    ['f32', 1 / Math.sqrt(headDim)],
    ['u32', headStart],
  ]);
  batch.dispatch(pipeline, [params, q.buffer, cache.k.buffer, cache.v.buffer, out.buffer], [Math.ceil(rows / FLASH_BLOCK_M), headCount], timing);
}
