/** GPU plumbing shared by the attention kernel tests: KV caches and their read-back. */
import { readBytes, readF32, type Tensor } from '../gpu/buffers';
import type { GpuRuntime } from '../gpu/dispatch';
import { decode16 } from '../util/halfFloat';
import type { AttentionShape, LayerKvCache } from './types';

/** Creates a zero-filled KV cache (WebGPU zero-initialises buffers). */
export function createCache(runtime: GpuRuntime, shape: AttentionShape, capacity: number, dtype: LayerKvCache['dtype']): LayerKvCache {
  const dims = [shape.numKvHeads, capacity, shape.headDim];
  return {
    k: runtime.allocator.createTensor('cache.k', dims, dtype),
    v: runtime.allocator.createTensor('cache.v', dims, dtype),
    dtype,
    capacity,
    numKvHeads: shape.numKvHeads,
    headDim: shape.headDim,
  };
}

export function destroyCache(runtime: GpuRuntime, cache: LayerKvCache): void {
  runtime.allocator.destroyTensor(cache.k);
  runtime.allocator.destroyTensor(cache.v);
}

/** Reads one cache tensor back as f32 in its [Hkv, capacity, D] layout. */
export async function readCacheTensor(runtime: GpuRuntime, cache: LayerKvCache, tensor: Tensor): Promise<Float32Array> {
  if (cache.dtype === 'f32') return readF32(runtime.device, tensor);
  const count = cache.numKvHeads * cache.capacity * cache.headDim;
  return decode16(new Uint16Array(await readBytes(runtime.device, tensor.buffer, 0, count * 2)), 'f16');
}
