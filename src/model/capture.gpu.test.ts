import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerZeroQkv } from '../../bench/compare-inputs';
import { ensureTinyModels } from '../../scripts/tiny-models';
import { expectClose, relativeL2 } from '../../test/expectClose';
import { FileSystemModelSource } from '../../test/fsSource';
import { driverName, gpuRuntime } from '../../test/gpu';
import { CAPTURE_MAGIC, readCapture } from '../attention/capture';
import { captureQkvFile, captureQkvLayers } from '../engine/qkvCapture';
import type { GpuRuntime } from '../gpu/dispatch';
import { Random } from '../util/random';
import { TransformerModel } from './model';
import { readWeightsF32 } from './weights';

const MODEL_DIR = 'public/models/tiny-qwen2';
/** 45 rows in chunks of 16: two full chunks and a 13-row tail, none a multiple of a tile size. */
const PROMPT_LENGTH = 45;
const CHUNK = 16;

function randomPrompt(seed: number, length: number): number[] {
  const random = new Random(seed);
  // Ids below 151643 are ordinary byte-pair tokens.
  return Array.from({ length }, () => random.int(151_643));
}

beforeAll(async () => {
  await ensureTinyModels('public/models');
}, 120_000);

describe('Q/K/V capture on tiny-qwen2', () => {
  const source = new FileSystemModelSource(MODEL_DIR);
  let runtime: GpuRuntime | undefined;
  let model: TransformerModel;
  let weights: Map<string, Float32Array>;

  beforeAll(async () => {
    runtime = await gpuRuntime();
    if (!runtime) return;
    model = await TransformerModel.load(runtime, source, { contextLength: 64, kvDtype: 'f16' });
    weights = await readWeightsF32(source, model.config);
  }, 300_000);

  afterAll(() => {
    if (runtime) model.dispose();
  });

  it('matches the CPU layer-0 reference', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(21, PROMPT_LENGTH);
    const progress: number[] = [];
    const layers = await captureQkvLayers(model, prompt, { layers: [0], chunkSize: CHUNK, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([16, 32, 45]);
    expect(layers.map((entry) => entry.layer)).toEqual([0]);
    expect(model.cachedTokens).toEqual(prompt);

    const expected = layerZeroQkv(model.config, weights, prompt);
    for (const name of ['q', 'k', 'v'] as const) {
      const error = relativeL2(layers[0][name], expected[name]);
      console.log(`tiny-qwen2 layer 0 ${name} on ${driverName()}: relative L2 ${error.toExponential(2)}`);
      // Same decoded bf16 weights; the GPU sums 128-term dot products and RoPE angles in f32, the reference in f64 (about 1e-6 relative).
      expectClose(`layer 0 ${name}`, layers[0][name], expected[name], { atol: 1e-4, rtol: 1e-4 });
    }
  });

  it('captures a later layer independently of chunking', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(22, PROMPT_LENGTH);
    const chunked = await captureQkvLayers(model, prompt, { layers: [1, 0, 1], chunkSize: CHUNK });
    const whole = await captureQkvLayers(model, prompt, { layers: [1], chunkSize: 64 });
    expect(chunked.map((entry) => entry.layer)).toEqual([0, 1]);
    for (const name of ['q', 'k', 'v'] as const) {
      // Layer 1 reads layer 0's attention over the f16 cache; only the key tiling of attention changes with the chunk size.
      expectClose(`layer 1 ${name} chunked against whole`, chunked[1][name], whole[0][name], { atol: 1e-4, rtol: 1e-4 });
    }
  });

  it('writes a file that readCapture round-trips', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(23, 29);
    const layers = await captureQkvLayers(model, prompt, { layers: [0, 1], chunkSize: CHUNK });
    const bytes = await captureQkvFile(model, prompt, { layers: [0, 1], chunkSize: CHUNK, modelName: 'tiny-qwen2', note: 'random prompt' });
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe(CAPTURE_MAGIC);

    const { header, layers: read } = readCapture(bytes);
    expect(header).toMatchObject({ model: 'tiny-qwen2', layers: [0, 1], numHeads: 4, numKvHeads: 2, headDim: 64, numTokens: 29, dtype: 'f32', ropeApplied: true, note: 'random prompt' });
    expect(header.positions).toEqual(Array.from({ length: 29 }, (_, i) => i));
    for (let i = 0; i < 2; i++) {
      // The same prompt and chunks run the same kernels, and f32 storage is exact.
      expect(read[i].q).toEqual(layers[i].q);
      expect(read[i].k).toEqual(layers[i].k);
      expect(read[i].v).toEqual(layers[i].v);
    }
  });

  it('rejects a layer outside the model', async () => {
    if (!runtime) return;
    await expect(captureQkvLayers(model, [1, 2, 3], { layers: [2], chunkSize: CHUNK })).rejects.toThrow(/layer 2 is outside the model's layers 0 \.\. 1/);
  });
});
