import type { Tensor } from '../gpu/buffers';
import { workgroupGrid, type ComputeBatch } from '../gpu/dispatch';
import { composeShader } from '../gpu/shader';
import kvStoreF16 from '../../shaders/kv_store_f16.wgsl?raw';
import kvStoreF32 from '../../shaders/kv_store_f32.wgsl?raw';
import kvWriteKernel from '../../shaders/kv_write.wgsl?raw';
import { checkCache, checkInteger, checkRows } from './kernelSupport';
import type { LayerKvCache } from './types';

/** Threads per workgroup of the KV-cache write; each thread moves one key pair and one value pair. */
export const KV_WRITE_WORKGROUP_SIZE = 256;

export interface KvWriteArgs {
  /** New keys, [T, Hkv, D] f32; the first `rows` rows are written. */
  k: Tensor;
  /** New values, [T, Hkv, D] f32. */
  v: Tensor;
  cache: LayerKvCache;
  /** Cache position of the first new row. */
  start: number;
  rows: number;
}

/**
 * Records the append of `rows` key and value rows to `cache` at positions start .. start + rows - 1,
 * converting to the cache dtype (f16 rounds to nearest even). Throws when the rows do not fit.
 */
export function encodeKvWrite(batch: ComputeBatch, { k, v, cache, start, rows }: KvWriteArgs): void {
  const op = 'encodeKvWrite';
  checkCache(op, cache);
  const { numKvHeads, headDim, capacity } = cache;
  checkInteger(op, 'rows', rows, 0);
  checkInteger(op, 'start', start, 0);
  if (start + rows > capacity) {
    throw new Error(`${op}: rows ${start} .. ${start + rows - 1} do not fit the KV cache of capacity ${capacity}`);
  }
  checkRows(op, 'k', k, rows, [numKvHeads, headDim], 'f32');
  checkRows(op, 'v', v, rows, [numKvHeads, headDim], 'f32');
  if (rows === 0) return;

  const runtime = batch.runtime;
  const code = composeShader([cache.dtype === 'f16' ? kvStoreF16 : kvStoreF32, kvWriteKernel]);
  const pipeline = runtime.pipelines.get(`kv_write_${cache.dtype}`, code, 'main', { WORKGROUP_SIZE: KV_WRITE_WORKGROUP_SIZE });
  const params = batch.uniform([
    ['u32', rows],
    ['u32', start],
    ['u32', numKvHeads],
    ['u32', headDim / 2],
    ['u32', capacity],
  ]);
  const pairs = rows * numKvHeads * (headDim / 2);
  const grid = workgroupGrid(Math.ceil(pairs / KV_WRITE_WORKGROUP_SIZE), runtime.device.limits.maxComputeWorkgroupsPerDimension);
  batch.dispatch(pipeline, [params, k.buffer, v.buffer, cache.k.buffer, cache.v.buffer], grid);
}
