/**
 * Shape checks, tile sizes and shader composition shared by the attention ops
 * (KV-cache write, dense prefill, decode and AnchorAttention).
 */
import type { DType, Tensor } from '../gpu/buffers';
import { composeShader } from '../gpu/shader';
import kvKeysF16 from '../../shaders/kv_keys_f16.wgsl?raw';
import kvKeysF32 from '../../shaders/kv_keys_f32.wgsl?raw';
import kvValuesF16 from '../../shaders/kv_values_f16.wgsl?raw';
import kvValuesF32 from '../../shaders/kv_values_f32.wgsl?raw';
import flashCore from '../../shaders/attention_flash_core.wgsl?raw';
import type { AttentionShape, LayerKvCache } from './types';

/** Query rows per workgroup of the flash-style kernels. */
export const FLASH_BLOCK_M = 16;
/** Threads per query row of the flash-style kernels; the workgroup has FLASH_BLOCK_M * FLASH_LANES threads. */
export const FLASH_LANES = 4;
/** Largest key tile of the flash-style kernels. */
export const FLASH_MAX_BLOCK_N = 32;
/** Workgroup memory the attention kernels stay within: WebGPU's guaranteed minimum of maxComputeWorkgroupStorageSize. */
export const WORKGROUP_STORAGE_BUDGET = 16384;
/**
 * Largest head dimension: each lane keeps D / (2 * FLASH_LANES) query and accumulator pairs in
 * private arrays of LANE_PAIRS_MAX = 32 pairs (attention_flash_core.wgsl).
 */
export const MAX_HEAD_DIM = 2 * FLASH_LANES * 32;

/**
 * Returns the keys per tile for head dimension `headDim`, the largest power of two up to FLASH_MAX_BLOCK_N
 * that fits the budget. The budget covers the K/V tile ([BLOCK_N, D] f32), the score parts
 * ([BLOCK_M, BLOCK_N, LANES] f32) and 16 bytes for the sparse kernel's stripe count.
 */
export function flashBlockN(headDim: number): number {
  const bytes = (blockN: number) => 4 * blockN * headDim + 4 * FLASH_BLOCK_M * blockN * FLASH_LANES + 16;
  let blockN = FLASH_MAX_BLOCK_N;
  while (blockN > 1 && bytes(blockN) > WORKGROUP_STORAGE_BUDGET) blockN /= 2;
  return blockN;
}

/** Override constants of a flash-style pipeline for head dimension `headDim`. */
export function flashConstants(headDim: number): Record<string, number> {
  return { BLOCK_M: FLASH_BLOCK_M, LANES: FLASH_LANES, BLOCK_N: flashBlockN(headDim), HEAD_DIM: headDim };
}

/**
 * WGSL of a kernel that reads the KV cache: the common helpers, the key reader of the cache dtype,
 * the value reader unless `keysOnly`, the flash tile loop when `flash`, then the kernel.
 */
export function composeCacheReader(kernel: string, cacheDtype: LayerKvCache['dtype'], options: { flash?: boolean; keysOnly?: boolean } = {}): string {
  const parts = cacheDtype === 'f16' ? [kvKeysF16] : [kvKeysF32];
  if (!options.keysOnly) parts.push(cacheDtype === 'f16' ? kvValuesF16 : kvValuesF32);
  if (options.flash) parts.push(flashCore);
  parts.push(kernel);
  return composeShader(parts);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless `tensor` has exactly `shape` and `dtype`, naming the op and the tensor. */
export function checkTensor(op: string, name: string, tensor: Tensor, shape: readonly number[], dtype: DType): void {
  const shapeOk = tensor.shape.length === shape.length && tensor.shape.every((size, i) => size === shape[i]);
  if (!shapeOk || tensor.dtype !== dtype) {
    throw new Error(
      `${op}: ${name} ("${tensor.label}") must be ${formatShape(shape)} ${dtype}, got ${formatShape(tensor.shape)} ${tensor.dtype}`,
    );
  }
}

/** Throws unless `tensor` is [T, ...rest] of `dtype` with T >= minRows; returns T. */
export function checkRows(op: string, name: string, tensor: Tensor, minRows: number, rest: readonly number[], dtype: DType): number {
  const rows = tensor.shape[0];
  const tailOk = tensor.shape.length === rest.length + 1 && rest.every((size, i) => tensor.shape[i + 1] === size);
  if (!tailOk || tensor.dtype !== dtype || !(rows >= minRows)) {
    throw new Error(
      `${op}: ${name} ("${tensor.label}") must be [T >= ${minRows}, ${rest.join(', ')}] ${dtype}, got ${formatShape(tensor.shape)} ${tensor.dtype}`,
    );
  }
  return rows;
}

/** Checks the head geometry against the cache and the kernel limits. */
export function checkShape(op: string, shape: AttentionShape, cache: LayerKvCache): void {
  const { numHeads, numKvHeads, headDim } = shape;
  if (!Number.isInteger(numHeads) || !Number.isInteger(numKvHeads) || numHeads < 1 || numKvHeads < 1 || numHeads % numKvHeads !== 0) {
    throw new Error(`${op}: numHeads (${numHeads}) must be a positive multiple of numKvHeads (${numKvHeads})`);
  }
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0 || headDim > MAX_HEAD_DIM) {
    throw new Error(`${op}: headDim must be an even integer from 2 to ${MAX_HEAD_DIM}, got ${headDim}`);
  }
  if (cache.numKvHeads !== numKvHeads || cache.headDim !== headDim) {
    throw new Error(
      `${op}: the KV cache has ${cache.numKvHeads} KV heads of dim ${cache.headDim}, but the attention shape expects ${numKvHeads} of dim ${headDim}`,
    );
  }
  checkCache(op, cache);
}

/** Checks that the cache tensors are [Hkv, capacity, D] of the cache dtype. */
export function checkCache(op: string, cache: LayerKvCache): void {
  const shape = [cache.numKvHeads, cache.capacity, cache.headDim];
  checkTensor(op, 'cache.k', cache.k, shape, cache.dtype);
  checkTensor(op, 'cache.v', cache.v, shape, cache.dtype);
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(op: string, name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${op}: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
