/** Random attention inputs and small array helpers shared by the attention tests (no GPU needed). */
import { decode16, encode16 } from '../util/halfFloat';
import { Random } from '../util/random';
import type { AttentionShape, LayerKvCache } from './types';

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
