import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_MODELS, tinyModelTensors, writeTinyModel } from '../../scripts/tiny-models';
import { FileSystemModelSource } from '../../test/fsSource';
import { decode16, encode16 } from '../util/halfFloat';
import { parseModelConfig, ropeOptions } from './config';
import { ReferenceModel } from './reference';
import { computeInvFreq } from './rope';
import { fetchJsonIfPresent } from './source';
import { readWeightsF32 } from './weights';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tiny-models-'));
  for (const spec of TINY_MODELS) await writeTinyModel(spec, join(root, spec.name));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function loadModel(name: string) {
  const source = new FileSystemModelSource(join(root, name));
  const config = parseModelConfig(await fetchJsonIfPresent(source, 'config.json'), await fetchJsonIfPresent(source, 'generation_config.json'));
  return { source, config };
}

// Generating and decoding 40 MB models takes seconds, more on a loaded machine.
describe('tiny models', { timeout: 120_000 }, () => {
  it.each(TINY_MODELS.map((spec) => [spec.name, spec] as const))('%s round-trips its weights', async (name, spec) => {
    const { source, config } = await loadModel(name);
    expect(config.architecture).toBe((spec.config.architectures as string[])[0]);
    const weights = await readWeightsF32(source, config);
    const generated = tinyModelTensors(spec);
    expect(weights.size).toBe(generated.length);
    for (const { name: tensor, values } of generated) {
      // What the file stores is the generator's f32 values rounded to the storage dtype.
      const stored = spec.dtype === 'F32' ? values : decode16(encode16(values, spec.dtype === 'BF16' ? 'bf16' : 'f16'), spec.dtype === 'BF16' ? 'bf16' : 'f16');
      // Byte comparison: toEqual on million-element typed arrays is too slow and memory-hungry.
      const got = weights.get(tensor)!;
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)), tensor).toBe(true);
    }
  });

  it('regenerates identical bytes from the seed', async () => {
    const spec = TINY_MODELS[0];
    const again = join(root, 'again');
    await writeTinyModel(spec, again);
    const first = await readFile(join(root, spec.name, 'model.safetensors'));
    const second = await readFile(join(again, 'model.safetensors'));
    expect(second.equals(first)).toBe(true);
  });

  it('keeps the architecture features each model exists to test', async () => {
    const qwen2 = (await loadModel('tiny-qwen2')).config;
    expect([qwen2.attentionBias, qwen2.tieWordEmbeddings, qwen2.numHeads, qwen2.numKvHeads, qwen2.headDim]).toEqual([true, true, 4, 2, 64]);
    const qwen3 = (await loadModel('tiny-qwen3')).config;
    expect([qwen3.qkNorm, qwen3.tieWordEmbeddings, qwen3.headDim]).toEqual([true, false, 128]);
    const llama = (await loadModel('tiny-llama')).config;
    expect([llama.ropeScaling?.ropeType, llama.tieWordEmbeddings]).toEqual(['llama3', false]);
  });

  it('matches the tokenizer vocabulary and eos token', async () => {
    const { source, config } = await loadModel('tiny-qwen2');
    const tokenizer = (await fetchJsonIfPresent(source, 'tokenizer.json')) as { model: { vocab: Record<string, number> }; added_tokens: { id: number; content: string }[] };
    const tokenizerConfig = (await fetchJsonIfPresent(source, 'tokenizer_config.json')) as { eos_token: string };
    const maxId = [...Object.values(tokenizer.model.vocab), ...tokenizer.added_tokens.map((token) => token.id)].reduce((a, b) => Math.max(a, b), 0);
    expect(config.vocabSize).toBeGreaterThan(maxId);
    const eos = tokenizer.added_tokens.find((token) => token.content === tokenizerConfig.eos_token);
    expect(eos).toBeDefined();
    expect(config.eosTokenIds).toContain(eos!.id);
  });
});

describe('reference forward', { timeout: 120_000 }, () => {
  it('gives the same logits one token at a time as all at once', async () => {
    const { source, config } = await loadModel('tiny-qwen3');
    const weights = await readWeightsF32(source, config);
    const prompt = [9707, 11, 1879, 0, 151644, 872, 198];
    const whole = new ReferenceModel(config, weights).append(prompt);
    const stepwise = new ReferenceModel(config, weights);
    let logits: Float32Array | undefined;
    for (const token of prompt) logits = stepwise.append([token]);
    expect(logits).toBeDefined();
    expect(Buffer.from(logits!.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
  });

  it('produces spread-out, finite logits', async () => {
    const { source, config } = await loadModel('tiny-qwen2');
    const logits = new ReferenceModel(config, await readWeightsF32(source, config)).append([3, 1000, 151643, 42]);
    const mean = logits.reduce((sum, value) => sum + value, 0) / logits.length;
    const std = Math.sqrt(logits.reduce((sum, value) => sum + (value - mean) ** 2, 0) / logits.length);
    expect(logits.every(Number.isFinite)).toBe(true);
    // A std of about 1 keeps the top two logits apart by far more than f32 rounding, so greedy choices are stable.
    expect(std).toBeGreaterThan(0.5);
  });

  it('passes llama3 rope_scaling to computeInvFreq', async () => {
    const { config } = await loadModel('tiny-llama');
    const scaled = computeInvFreq(ropeOptions(config));
    const plain = computeInvFreq({ ...ropeOptions(config), ropeScaling: null });
    // Wavelength 2π/inv_freq below 8192/4 keeps its frequency; above 8192 it is divided by the factor 32.
    expect(scaled[0]).toBe(plain[0]);
    expect(scaled[15]).toBeCloseTo(plain[15] / 32, 12);
  });
});
