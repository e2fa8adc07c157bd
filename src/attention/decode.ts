import type { Tensor } from '../gpu/buffers';
import type { ComputeBatch } from '../gpu/dispatch';
import decodeKernel from '../../shaders/attention_decode.wgsl?raw';
import { checkInteger, checkShape, checkTensor, composeCacheReader } from './kernelSupport';
import type { AttentionShape, LayerKvCache } from './types';

/** Threads per decode workgroup (one workgroup per query head); each scores one key per tile. */
export const DECODE_WORKGROUP_SIZE = 64;

export interface DecodeArgs {
  /** The new token's queries, [1, H, D] f32. */
  q: Tensor;
  cache: LayerKvCache;
  /** Keys 0 .. length - 1 are attended (the new token's own key included). */
  length: number;
  shape: AttentionShape;
  /** Output, [1, H, D] f32. */
  out: Tensor;
  /** Profiler label of the pass. */
  timing?: string;
}

/**
 * Records attention of one query row over the first `length` cached keys, with GQA and scale
 * 1/sqrt(D) (shaders/attention_decode.wgsl): one workgroup per head walks the keys in tiles.
 */
export function encodeDecodeAttention(batch: ComputeBatch, { q, cache, length, shape, out, timing }: DecodeArgs): void {
  const op = 'encodeDecodeAttention';
  checkShape(op, shape, cache);
  const { numHeads, numKvHeads, headDim } = shape;
  checkInteger(op, 'length', length, 1, cache.capacity);
  checkTensor(op, 'q', q, [1, numHeads, headDim], 'f32');
  checkTensor(op, 'out', out, [1, numHeads, headDim], 'f32');

  const runtime = batch.runtime;
  const code = composeCacheReader(decodeKernel, cache.dtype);
  const pipeline = runtime.pipelines.get(`attention_decode_${cache.dtype}`, code, 'main', {
    WORKGROUP_SIZE: DECODE_WORKGROUP_SIZE,
    HEAD_DIM: headDim,
  });
  const params = batch.uniform([
    ['u32', length],
    ['u32', numHeads],
    ['u32', numHeads / numKvHeads],
    ['u32', cache.capacity],
    ['f32', 1 / Math.sqrt(headDim)],
  ]);
  batch.dispatch(pipeline, [params, q.buffer, cache.k.buffer, cache.v.buffer, out.buffer], [numHeads], timing);
}
