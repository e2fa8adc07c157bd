/** Inputs and GPU plumbing shared by the attention kernel tests. */
import { globals } from 'webgpu';
import { readBytes, readF32, type Tensor } from '../gpu/buffers';
import type { GpuRuntime } from '../gpu/dispatch';
import { decode16, encode16 } from '../util/halfFloat';
import { Random } from '../util/random';
import type { AttentionShape, LayerKvCache } from './types';

// NOTE: dawn.node frees its instance when the object returned by create() is garbage collected,
// and test/gpu.ts keeps no reference to it, so a test that allocates enough JS memory crashes in
// InstanceBase::ProcessEvents. Keeping every GPU object that requests an adapter alive avoids that
// until test/gpu.ts holds the reference itself.
const retainedGpus: GPU[] = [];
const requestAdapter = globals.GPU.prototype.requestAdapter;
globals.GPU.prototype.requestAdapter = function (this: GPU, ...args: Parameters<GPU['requestAdapter']>) {
  if (!retainedGpus.includes(this)) retainedGpus.push(this);
  return requestAdapter.apply(this, args);
};

/** A zero-filled KV cache (WebGPU zero-initialises buffers). */
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

/** Values as the cache stores them: unchanged for f32, rounded to the nearest half for f16. */
export function roundToCache(values: Float32Array, dtype: LayerKvCache['dtype']): Float32Array {
  return dtype === 'f32' ? values : decode16(encode16(values, 'f16'), 'f16');
}

export interface AttentionInputs {
  /** (N, H, D) */
  q: Float32Array;
  /** (N, Hkv, D) */
  k: Float32Array;
  /** (N, Hkv, D) */
  v: Float32Array;
}

/**
 * Random queries, keys and values for N tokens. Entries are normal with `std`, so scores have
 * a standard deviation near std²; `heavyKeys` keys per KV head get a shared direction that every
 * query also leans towards (by `bias`), giving the stripes AnchorAttention looks for.
 */
export function randomInputs(seed: number, N: number, shape: AttentionShape, options: { std?: number; heavyKeys?: number; bias?: number } = {}): AttentionInputs {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const { std = 1, heavyKeys = 0, bias = 0 } = options;
  const random = new Random(seed);
  const q = random.normals(N * H * D, std);
  const k = random.normals(N * Hkv * D, std);
  const v = random.normals(N * Hkv * D, 1);
  for (let kvh = 0; kvh < Hkv; kvh++) {
    const direction = random.normals(D, 1);
    for (let i = 0; i < heavyKeys && N > 0; i++) {
      const j = random.int(N);
      for (let d = 0; d < D; d++) k[(j * Hkv + kvh) * D + d] += bias * direction[d];
    }
    for (let h = kvh * (H / Hkv); h < (kvh + 1) * (H / Hkv); h++) {
      for (let r = 0; r < N; r++) {
        for (let d = 0; d < D; d++) q[(r * H + h) * D + d] += 0.5 * bias * direction[d];
      }
    }
  }
  return { q, k, v };
}

/** Rows [rowStart, rowEnd) of a row-major (N, ...) array with `rowSize` elements per row. */
export function sliceRows(data: Float32Array, rowStart: number, rowEnd: number, rowSize: number): Float32Array {
  return data.slice(rowStart * rowSize, rowEnd * rowSize);
}
