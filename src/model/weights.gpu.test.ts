import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels } from '../../scripts/tiny-models';
import { FileSystemModelSource } from '../../test/fsSource';
import { gpuRuntime } from '../../test/gpu';
import { readBytes } from '../gpu/buffers';
import { parseModelConfig } from './config';
import { KvCache, kvCacheBytes } from './kvCache';
import { parseSafetensorsHeader, tensorBytes } from './safetensors';
import { fetchJsonIfPresent } from './source';
import { destroyWeights, uploadWeights } from './weights';

const MODEL_DIR = join('public/models', 'tiny-qwen2');

beforeAll(async () => {
  await ensureTinyModels('public/models');
}, 120_000);

describe('uploadWeights', () => {
  it('uploads a row-split embedding as stored', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const source = new FileSystemModelSource(MODEL_DIR);
    const config = parseModelConfig(await fetchJsonIfPresent(source, 'config.json'));
    const before = runtime.allocator.bytesAllocated;
    // 3 MB parts split the 39 MB bf16 table into 13 bindings, as a 272 MB table splits under 128 MiB.
    const weights = await uploadWeights(runtime, source, config, { maxBindingBytes: 3 * 1024 * 1024 });
    expect(weights.embedding.parts.length).toBe(13);
    expect(weights.embedding.dtype).toBe('bf16');
    expect(weights.lmHead).toBe(weights.embedding);
    expect(weights.layers[0].qBias?.dtype).toBe('bf16');

    const file = new Uint8Array(await source.fetchBytes('model.safetensors'));
    const header = parseSafetensorsHeader(file, 'model.safetensors');
    const stored = tensorBytes(header, file, 'model.embed_tokens.weight');
    const rowBytes = config.hiddenSize * 2;
    for (const [index, part] of weights.embedding.parts.entries()) {
      const start = weights.embedding.rowStarts[index] * rowBytes;
      const got = new Uint8Array(await readBytes(runtime.device, part.buffer, 0, part.shape[0] * rowBytes));
      expect(Buffer.from(got).equals(Buffer.from(stored.subarray(start, start + got.byteLength))), `part ${index}`).toBe(true);
    }
    destroyWeights(runtime, weights);
    expect(runtime.allocator.bytesAllocated).toBe(before);
  });
});

describe('KvCache', () => {
  it('tracks tokens and frees its buffers', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const source = new FileSystemModelSource(MODEL_DIR);
    const config = parseModelConfig(await fetchJsonIfPresent(source, 'config.json'));
    const before = runtime.allocator.bytesAllocated;
    const cache = new KvCache(runtime, config, 50, 'f16');
    expect(runtime.allocator.bytesAllocated - before).toBe(kvCacheBytes(config, 50, 'f16'));
    expect(cache.layers[0].k.shape).toEqual([2, 50, 64]);
    cache.append([1, 2, 3, 4]);
    expect(cache.commonPrefixLength([1, 2, 9, 4])).toBe(2);
    expect(cache.commonPrefixLength([1, 2, 3, 4, 5])).toBe(4);
    cache.truncate(2);
    expect(cache.tokens).toEqual([1, 2]);
    expect(() => cache.append(new Array(49).fill(0))).toThrow(/do not fit the capacity of 50/);
    cache.dispose();
    expect(runtime.allocator.bytesAllocated).toBe(before);
  });
});
