/**
 * The model's KV cache: one LayerKvCache per layer, keys and values apart, each
 * [numKvHeads, capacity, headDim] in f16 (two per u32) or f32. It also records the token ids
 * whose keys and values it holds, so that a later request can reuse the longest common prefix.
 */
import { tensorByteLength } from '../gpu/buffers';
import type { GpuRuntime } from '../gpu/dispatch';
import type { LayerKvCache } from '../attention/types';
import type { ModelConfig } from './config';

export type KvDtype = LayerKvCache['dtype'];

/** Bytes the KV cache of `config` takes at `capacity` tokens, for memory estimates. */
export function kvCacheBytes(config: ModelConfig, capacity: number, dtype: KvDtype): number {
  return 2 * config.numLayers * tensorByteLength([config.numKvHeads, capacity, config.headDim], dtype);
}

export class KvCache {
  readonly layers: LayerKvCache[];
  private readonly cachedTokens: number[] = [];

  constructor(
    private readonly runtime: GpuRuntime,
    config: ModelConfig,
    readonly capacity: number,
    readonly dtype: KvDtype = 'f16',
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`KvCache: capacity must be a positive integer, got ${capacity}`);
    const { numKvHeads, headDim } = config;
    const shape = [numKvHeads, capacity, headDim];
    const bytes = tensorByteLength(shape, dtype);
    const limit = runtime.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new Error(
        `KvCache: one layer's keys need ${bytes} bytes at ${capacity} tokens, more than this GPU's ${limit}-byte storage binding limit; choose a shorter context`,
      );
    }
    this.layers = [];
    try {
      for (let layer = 0; layer < config.numLayers; layer++) {
        this.layers.push({
          k: runtime.allocator.createTensor(`kv cache ${layer} k`, shape, dtype),
          v: runtime.allocator.createTensor(`kv cache ${layer} v`, shape, dtype),
          dtype,
          capacity,
          numKvHeads,
          headDim,
        });
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Token ids whose keys and values are in the cache, at positions 0 .. length - 1. */
  get tokens(): readonly number[] {
    return this.cachedTokens;
  }

  get length(): number {
    return this.cachedTokens.length;
  }

  /** Length of the longest common prefix of `tokens` and the cached tokens. */
  commonPrefixLength(tokens: readonly number[]): number {
    const limit = Math.min(tokens.length, this.cachedTokens.length);
    let length = 0;
    while (length < limit && tokens[length] === this.cachedTokens[length]) length++;
    return length;
  }

  /** Forgets every position from `length` on; their slots are overwritten by later writes. */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.cachedTokens.length) {
      throw new Error(`KvCache: cannot truncate ${this.cachedTokens.length} cached tokens to ${length}`);
    }
    this.cachedTokens.length = length;
  }

  /** Records that the keys and values of `tokens` now sit at the next positions. */
  append(tokens: readonly number[]): void {
    if (this.cachedTokens.length + tokens.length > this.capacity) {
      throw new Error(`KvCache: ${this.cachedTokens.length} + ${tokens.length} tokens do not fit the capacity of ${this.capacity}`);
    }
    for (const token of tokens) this.cachedTokens.push(token);
  }

  dispose(): void {
    for (const layer of this.layers) {
      this.runtime.allocator.destroyTensor(layer.k);
      this.runtime.allocator.destroyTensor(layer.v);
    }
    this.layers.length = 0;
    this.cachedTokens.length = 0;
  }
}
