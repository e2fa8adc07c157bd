import { describe, expect, it } from 'vitest';
import { parseModelConfig, SUPPORTED_ARCHITECTURES } from '../model/config';
import { computeInvFreq } from '../model/rope';
import { ropeOptions } from '../model/config';
import { estimateModelMemory, modelWeightBytes } from '../model/memory';
import type { FileProgress, ModelSource } from '../model/source';
import { expectedWeightShapes } from '../model/weights';
import { checkModelFit, describeMisfit, planMemoryFit, readWeightSummary, type FitSettings } from './memoryFit';
import { LLAMA32_1B_INSTRUCT, QWEN25_05B_INSTRUCT, QWEN3_06B, SMOLLM2_360M_INSTRUCT } from './realConfigs';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** A WebGPU default adapter: 128 MiB bindings and 256 MiB buffers. */
const DEFAULT_LIMITS = { maxBufferSize: 256 * MiB, maxStorageBufferBindingSize: 128 * MiB };
const SETTINGS: FitSettings = { budgetBytes: 4 * GiB, chunkSize: 512, attention: 'dense' };

/**
 * A source whose weight files hold a real safetensors header for `tensors` and no data: the
 * memory check reads headers only, and records every whole-file read so a test can see that no
 * weights were downloaded.
 */
class HeaderOnlySource implements ModelSource {
  readonly wholeFileReads: string[] = [];
  readonly rangeReads: string[] = [];
  private readonly headers = new Map<string, Uint8Array>();

  constructor(
    readonly name: string,
    private readonly json: Record<string, unknown>,
    shards: Map<string, Map<string, { dtype: string; shape: number[] }>>,
    private readonly index?: unknown,
  ) {
    for (const [file, tensors] of shards) {
      const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
      let offset = 0;
      for (const [tensor, { dtype, shape }] of tensors) {
        const bytes = shape.reduce((a, b) => a * b, 1) * (dtype === 'F32' ? 4 : 2);
        header[tensor] = { dtype, shape, data_offsets: [offset, offset + bytes] };
        offset += bytes;
      }
      const text = new TextEncoder().encode(JSON.stringify(header));
      const bytes = new Uint8Array(8 + text.byteLength);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(text.byteLength), true);
      bytes.set(text, 8);
      this.headers.set(file, bytes);
    }
  }

  async has(path: string): Promise<boolean> {
    return path === 'config.json' || (path === 'model.safetensors.index.json' && this.index !== undefined) || this.headers.has(path);
  }

  async fetchBytes(path: string, _onProgress?: (progress: FileProgress) => void): Promise<ArrayBuffer> {
    this.wholeFileReads.push(path);
    if (path === 'config.json') return new TextEncoder().encode(JSON.stringify(this.json)).buffer as ArrayBuffer;
    if (path === 'model.safetensors.index.json') return new TextEncoder().encode(JSON.stringify(this.index)).buffer as ArrayBuffer;
    throw new Error(`${path}: a weight file was read whole`);
  }

  async fetchRange(path: string, start: number, end: number): Promise<ArrayBuffer | undefined> {
    this.rangeReads.push(`${path} ${start}-${end}`);
    const header = this.headers.get(path);
    if (!header) throw new Error(`${path} not found`);
    return header.slice(start, end).buffer as ArrayBuffer;
  }
}

/** Lists every tensor the model uploads, in bf16, in one file. */
function singleFile(json: Record<string, unknown>, extra: Record<string, number[]> = {}) {
  const tensors = new Map<string, { dtype: string; shape: number[] }>();
  for (const [name, shape] of expectedWeightShapes(parseModelConfig(json))) tensors.set(name, { dtype: 'BF16', shape });
  for (const [name, shape] of Object.entries(extra)) tensors.set(name, { dtype: 'BF16', shape });
  return new Map([['model.safetensors', tensors]]);
}

const MODELS = [
  { name: 'Qwen2.5-0.5B-Instruct', json: QWEN25_05B_INSTRUCT, architecture: 'Qwen2ForCausalLM' },
  { name: 'Qwen3-0.6B', json: QWEN3_06B, architecture: 'Qwen3ForCausalLM' },
  { name: 'SmolLM2-360M-Instruct', json: SMOLLM2_360M_INSTRUCT, architecture: 'LlamaForCausalLM' },
  { name: 'Llama-3.2-1B-Instruct', json: LLAMA32_1B_INSTRUCT, architecture: 'LlamaForCausalLM' },
] as const;

describe('real model configs', () => {
  it.each(MODELS)('parses $name', ({ json, architecture }) => {
    const config = parseModelConfig(json);

    expect(config.architecture).toBe(architecture);
    expect(config.tieWordEmbeddings).toBe(true);
    expect(config.headDim * config.numHeads).toBe(architecture === 'Qwen3ForCausalLM' ? 2048 : config.hiddenSize);
  });

  it('reads Qwen2.5 q/k/v biases and no o bias', () => {
    const config = parseModelConfig(QWEN25_05B_INSTRUCT);

    expect([config.attentionBias, config.outputBias, config.qkNorm]).toEqual([true, false, false]);
    expect([config.numHeads, config.numKvHeads, config.headDim]).toEqual([14, 2, 64]);
  });

  it('reads Qwen3 head_dim 128 and QK-norm', () => {
    const config = parseModelConfig(QWEN3_06B);

    expect([config.headDim, config.qkNorm, config.attentionBias, config.ropeScaling]).toEqual([128, true, false, null]);
  });

  it('reads SmolLM2 as a tied Llama with plain RoPE', () => {
    const config = parseModelConfig(SMOLLM2_360M_INSTRUCT);

    expect([config.numHeads, config.numKvHeads, config.headDim, config.ropeTheta]).toEqual([15, 5, 64, 100000]);
    expect(config.ropeScaling).toBeNull();
    // Tied: no lm_head.weight is expected in the files.
    expect(expectedWeightShapes(config).has('lm_head.weight')).toBe(false);
  });

  it('reads Llama-3.2 llama3 rope scaling and three eos ids', () => {
    const config = parseModelConfig(LLAMA32_1B_INSTRUCT);

    expect(config.ropeScaling).toEqual({ ropeType: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(config.eosTokenIds).toEqual([128001, 128008, 128009]);
    const invFreq = computeInvFreq(ropeOptions(config));
    // The highest frequency (wavelength 2π < 8192 / 4) is unscaled; the lowest is divided by the factor 32.
    expect(invFreq[0]).toBeCloseTo(1, 12);
    // invFreq is f32, so the check is relative at f32 precision.
    expect(Math.abs(invFreq[31] / (500000 ** (-62 / 64) / 32) - 1)).toBeLessThan(1e-6);
  });
});

describe('readWeightSummary', () => {
  it.each(MODELS)('sums the headers of $name without reading weights', async ({ name, json }) => {
    const source = new HeaderOnlySource(name, json, singleFile(json));
    const config = parseModelConfig(json);

    const summary = await readWeightSummary(source, config);

    expect(summary).toMatchObject({ weightBytes: modelWeightBytes(config, 'bf16'), weightDtype: 'bf16', method: 'safetensors headers' });
    expect(source.wholeFileReads).toEqual([]);
    expect(source.rangeReads).toHaveLength(2);
  });

  it('ignores tensors the model does not upload', async () => {
    // Some tied checkpoints still ship lm_head.weight; it is never uploaded, so it is not counted.
    const config = parseModelConfig(SMOLLM2_360M_INSTRUCT);
    const source = new HeaderOnlySource('smol', SMOLLM2_360M_INSTRUCT, singleFile(SMOLLM2_360M_INSTRUCT, { 'lm_head.weight': [49152, 960] }));

    const summary = await readWeightSummary(source, config);

    expect(summary.weightBytes).toBe(modelWeightBytes(config, 'bf16'));
  });

  it('reads every shard of a sharded model', async () => {
    const config = parseModelConfig(LLAMA32_1B_INSTRUCT);
    const all = [...expectedWeightShapes(config)];
    const half = Math.ceil(all.length / 2) + 3;
    const shard = (entries: [string, number[]][]) => new Map(entries.map(([name, shape]) => [name, { dtype: 'BF16', shape }]));
    const files = new Map([
      ['model-00001-of-00002.safetensors', shard(all.slice(0, half))],
      ['model-00002-of-00002.safetensors', shard(all.slice(half))],
    ]);
    const weightMap = Object.fromEntries(all.map(([name], i) => [name, i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    const source = new HeaderOnlySource('llama', LLAMA32_1B_INSTRUCT, files, { metadata: { total_size: 1 }, weight_map: weightMap });

    const summary = await readWeightSummary(source, config);

    expect(summary.weightBytes).toBe(modelWeightBytes(config, 'bf16'));
    expect(summary.files).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(source.rangeReads).toHaveLength(4);
  });

  it('falls back to the index total_size without Range reads', async () => {
    const config = parseModelConfig(QWEN3_06B);
    const source: ModelSource = {
      name: 'no-range',
      has: async (path) => path === 'model.safetensors.index.json',
      fetchBytes: async () => new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 1_503_300_328 }, weight_map: { x: 'model.safetensors' } })).buffer as ArrayBuffer,
    };

    expect(await readWeightSummary(source, config)).toMatchObject({ weightBytes: 1_503_300_328, method: 'index total_size', weightDtype: 'bf16' });
  });
});

describe('checkModelFit', () => {
  it('fits Qwen2.5-0.5B at 32k in 4 GiB with an f16 KV cache', async () => {
    const source = new HeaderOnlySource('qwen', QWEN25_05B_INSTRUCT, singleFile(QWEN25_05B_INSTRUCT));

    const { report } = await checkModelFit(source, DEFAULT_LIMITS, SETTINGS, {});

    expect(report.contextLength).toBe(32768);
    expect(report.problems).toEqual([]);
    expect(report.chosenContextLength).toBe(32768);
    expect(report.estimate.total).toBe(
      estimateModelMemory(parseModelConfig(QWEN25_05B_INSTRUCT), { weightBytes: 988_065_536, weightDtype: 'bf16', contextLength: 32768, kvDtype: 'f16', chunkSize: 512, attention: 'dense' }).total,
    );
  });

  it('shortens an unpinned context to fit a small budget', async () => {
    const source = new HeaderOnlySource('llama', LLAMA32_1B_INSTRUCT, singleFile(LLAMA32_1B_INSTRUCT));

    // 2.5 GiB: the 2.3 GiB of weights fit, a 32k f16 KV cache (1 GiB) does not.
    const { report } = await checkModelFit(source, DEFAULT_LIMITS, { ...SETTINGS, budgetBytes: 2.5 * GiB }, {});

    expect(report.contextLength).toBe(32768);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/needs about [\d.]+ MiB \(weights [\d.]+ MiB, KV cache 1024\.0 MiB, activations [\d.]+ MiB\), but the memory budget is 2560\.0 MiB/);
    expect(report.maxFittingContextLength).toBeGreaterThan(0);
    expect(report.maxFittingContextLength! % 256).toBe(0);
    expect(report.chosenContextLength).toBe(report.maxFittingContextLength);
  });

  it('keeps a pinned context and explains the misfit', async () => {
    const source = new HeaderOnlySource('llama', LLAMA32_1B_INSTRUCT, singleFile(LLAMA32_1B_INSTRUCT));

    const { report } = await checkModelFit(source, DEFAULT_LIMITS, { ...SETTINGS, budgetBytes: 2.5 * GiB }, { contextLength: 32768 });

    expect(report.chosenContextLength).toBeNull();
    expect(describeMisfit(report)).toMatch(/^llama does not fit at 32,768 tokens of context \(estimate\): .* A context of [\d,]+ tokens fits/);
  });

  it('says when no context fits, with the numbers', async () => {
    const source = new HeaderOnlySource('qwen3', QWEN3_06B, singleFile(QWEN3_06B));

    const { report } = await checkModelFit(source, DEFAULT_LIMITS, { ...SETTINGS, budgetBytes: 1 * GiB }, {});

    expect(report.maxFittingContextLength).toBeNull();
    expect(report.chosenContextLength).toBeNull();
    expect(describeMisfit(report)).toMatch(/weights 1[\d.]+ MiB.*memory budget is 1024\.0 MiB.*No context length fits/);
  });

  it('reports a buffer over the adapter limit', () => {
    const config = parseModelConfig(LLAMA32_1B_INSTRUCT);
    const weights = { weightBytes: modelWeightBytes(config, 'bf16'), weightDtype: 'bf16' as const, method: 'config shapes' as const, files: [] };

    // One layer's f32 KV cache at 128k: 8 · 64 · 131072 · 4 = 256 MiB, over a 128 MiB binding.
    const report = planMemoryFit('llama', config, weights, DEFAULT_LIMITS, { ...SETTINGS, budgetBytes: 64 * GiB }, { contextLength: 131072, kvDtype: 'f32' });

    expect(report.problems.some((problem) => /KV cache keys of one layer needs one buffer of 256\.0 MiB, but the adapter's buffer limit is 128\.0 MiB/.test(problem))).toBe(true);
  });

  it('names an unsupported architecture before reading any weight header', async () => {
    const json = { ...QWEN25_05B_INSTRUCT, architectures: ['MistralForCausalLM'], model_type: 'mistral' };
    const source = new HeaderOnlySource('mistral', json, new Map());

    await expect(checkModelFit(source, DEFAULT_LIMITS, SETTINGS, {})).rejects.toThrow(
      `config.json: architecture "MistralForCausalLM" is not supported; supported architectures are ${SUPPORTED_ARCHITECTURES.join(', ')}`,
    );
    expect(source.rangeReads).toEqual([]);
  });
});
