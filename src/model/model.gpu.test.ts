import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels } from '../../scripts/tiny-models';
import { expectClose, relativeL2 } from '../../test/expectClose';
import { FileSystemModelSource } from '../../test/fsSource';
import { driverName, gpuRuntime } from '../../test/gpu';
import type { GpuRuntime } from '../gpu/dispatch';
import { Random } from '../util/random';
import type { AttentionMode } from '../attention/types';
import { kvCacheBytes } from './kvCache';
import { TransformerModel } from './model';
import { ReferenceModel } from './reference';
import { readWeightsF32 } from './weights';

const MODELS_ROOT = 'public/models';
const DENSE: AttentionMode = { kind: 'dense' };
const GREEDY = { temperature: 0, topK: 0, topP: 1, seed: 1 };
/** A short prompt keeps software Vulkan fast; 37 is not a multiple of any tile or chunk size used here. */
const PROMPT_LENGTH = 37;
const CHUNK = 8;

/**
 * Bounds on the relative L2 error of the last-position logits against the CPU reference. The
 * reference decodes the same stored weights exactly and rounds K and V through f16 exactly when
 * the GPU cache is f16, so what remains is f32 accumulation order on the GPU against f64 on the
 * CPU (about 1e-6 relative per dot product of a few hundred terms). A rare K/V element whose
 * f32 value sits on an f16 rounding boundary may also round the other way (one f16 ulp, 1e-3
 * relative, on one element of thousands). 1e-3 leaves an order of magnitude above the measured
 * errors printed by the test while still catching any wrong op, which gives errors near 1.
 */
const LOGIT_BOUND: Record<string, { kvDtype: 'f16' | 'f32'; bound: number }> = {
  // f32 weights and an f32 cache: only accumulation order differs.
  'tiny-llama': { kvDtype: 'f32', bound: 1e-3 },
  // bf16 weights and the default f16 cache, rounded identically by the reference.
  'tiny-qwen2': { kvDtype: 'f16', bound: 1e-3 },
  // f16 weights and the default f16 cache.
  'tiny-qwen3': { kvDtype: 'f16', bound: 1e-3 },
};

function randomPrompt(seed: number, length: number): number[] {
  const random = new Random(seed);
  // Ids below 151643 are ordinary byte-pair tokens, so no end-of-sequence id is in the prompt.
  return Array.from({ length }, () => random.int(151_643));
}

beforeAll(async () => {
  await ensureTinyModels(MODELS_ROOT);
}, 120_000);

describe.each(Object.keys(LOGIT_BOUND))('TransformerModel %s', (name) => {
  const { kvDtype, bound } = LOGIT_BOUND[name];
  const source = new FileSystemModelSource(join(MODELS_ROOT, name));
  let runtime: GpuRuntime | undefined;
  let model: TransformerModel;
  let weights: Map<string, Float32Array>;
  let bytesBefore = 0;

  beforeAll(async () => {
    runtime = await gpuRuntime();
    if (!runtime) return;
    bytesBefore = runtime.allocator.bytesAllocated;
    model = await TransformerModel.load(runtime, source, { contextLength: 96, kvDtype });
    expect(model.memory.kvCache).toBe(kvCacheBytes(model.config, 96, kvDtype));
    expect(model.memory.weights).toBeGreaterThan(0);
    weights = await readWeightsF32(source, model.config);
  }, 300_000);

  afterAll(() => {
    if (!runtime) return;
    const { weights: weightBytes, kvCache, workspace } = model.memory;
    const beforeDispose = runtime.allocator.bytesAllocated;
    model.dispose();
    // Every buffer the model owns is freed: weights, KV cache, workspace, and the 4-byte sampled
    // token and its 4-byte readback. encodeSample keeps its own per-device scratch, which stays.
    expect(beforeDispose - runtime.allocator.bytesAllocated).toBe(weightBytes + kvCache + workspace + 8);
    expect(runtime.allocator.bytesAllocated).toBeGreaterThanOrEqual(bytesBefore);
  });

  it('matches the reference logits', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(11, PROMPT_LENGTH);
    model.resetCache();
    await model.prefill(prompt, { chunkSize: CHUNK, attention: DENSE });
    const got = await model.readLogits();
    const expected = new ReferenceModel(model.config, weights, { kvDtype }).append(prompt);
    const error = relativeL2(got, expected);
    console.log(`${name} on ${driverName()}: logits relative L2 error ${error.toExponential(2)} (bound ${bound})`);
    expect(got.every(Number.isFinite)).toBe(true);
    expect(error).toBeLessThan(bound);
  });

  it('generates the reference greedy tokens', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(12, 21);
    const reference = new ReferenceModel(model.config, weights, { kvDtype }).generateGreedy(prompt, 16);
    model.resetCache();
    const streamed: number[] = [];
    const result = await model.generate(prompt, {
      maxNewTokens: 16,
      sampling: GREEDY,
      chunkSize: CHUNK,
      attention: DENSE,
      onToken: (id) => streamed.push(id),
    });
    // The reference ignores end-of-sequence ids, so compare up to the first one it produced.
    const eosAt = reference.findIndex((id) => model.config.eosTokenIds.includes(id));
    const expected = eosAt < 0 ? reference : reference.slice(0, eosAt + 1);
    expect(result.tokens).toEqual(expected);
    expect(streamed).toEqual(result.tokens);
    expect(result.stoppedBy).toBe(eosAt < 0 ? 'length' : 'eos');
    expect(result.prefillTokens).toBe(prompt.length);
    expect(model.cachedTokens).toEqual([...prompt, ...result.tokens.slice(0, -1)]);
  });

  it('gives the same logits in chunks as in one chunk', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(13, PROMPT_LENGTH);
    // The test is only meaningful when the chunked run really uses several chunks.
    expect(prompt.length).toBeGreaterThan(2 * CHUNK);
    const chunks: number[] = [];
    model.resetCache();
    await model.prefill(prompt, { chunkSize: CHUNK, attention: DENSE, onChunk: (done) => chunks.push(done) });
    const chunked = await model.readLogits();
    expect(chunks).toEqual([8, 16, 24, 32, 37]);
    model.resetCache();
    await model.prefill(prompt, { chunkSize: 64, attention: DENSE });
    const whole = await model.readLogits();
    // Same kernels and weights; only the key tiles of attention and the matmul row tiles change, so f32 rounding differs slightly.
    expectClose(`${name} chunked logits`, chunked, whole, { atol: 1e-4, rtol: 1e-4 });
  });

  it('runs AnchorAttention prefill like dense at infinite theta', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(19, PROMPT_LENGTH);
    // G = 4 · 2 = 8: groups 0 .. 3 run sparsely, and the 5-row tail runs densely.
    const params = { blockSize: 4, step: 2, theta: Infinity, initGroups: 1, localGroups: 1, denseLastGroup: false };
    const sparseChunks: number[] = [];
    model.resetCache();
    await model.prefill(prompt, {
      chunkSize: CHUNK,
      attention: { kind: 'anchor', params },
      onAnchorChunk: (start, results) => {
        sparseChunks.push(start);
        expect(results).toHaveLength(model.config.numLayers);
      },
    });
    const anchor = await model.readLogits();
    expect(sparseChunks).toEqual([0, 8, 16, 24]);
    model.resetCache();
    await model.prefill(prompt, { chunkSize: CHUNK, attention: DENSE });
    // With theta = +Infinity every candidate key is selected, so only the order of the online softmax differs.
    expectClose(`${name} anchor logits`, anchor, await model.readLogits(), { atol: 1e-4, rtol: 1e-4 });
  });

  it('reuses the cached prefix of a longer prompt', async () => {
    if (!runtime) return;
    const first = randomPrompt(14, 19);
    const second = [...first, ...randomPrompt(15, 14)];
    model.resetCache();
    await model.prefill(first, { chunkSize: CHUNK, attention: DENSE });
    const chunks: number[] = [];
    const reused = await model.prefill(second, { chunkSize: CHUNK, attention: DENSE, onChunk: (done) => chunks.push(done) });
    expect(reused.reusedTokens).toBe(19);
    expect(reused.prefillTokens).toBe(14);
    // Positions 19 .. 32: the first chunk ends at the boundary 24, so it is 5 rows long.
    expect(chunks).toEqual([5, 13, 14]);
    const got = await model.readLogits();
    model.resetCache();
    await model.prefill(second, { chunkSize: CHUNK, attention: DENSE });
    // Same kernels on the same positions; only the chunk boundaries differ.
    expectClose(`${name} reused-prefix logits`, got, await model.readLogits(), { atol: 1e-4, rtol: 1e-4 });
  });

  it('recomputes the last token of a fully cached prompt', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(16, 12);
    model.resetCache();
    await model.prefill(prompt, { chunkSize: CHUNK, attention: DENSE });
    const before = await model.readLogits();
    const again = await model.prefill(prompt, { chunkSize: CHUNK, attention: DENSE });
    expect(again.reusedTokens).toBe(11);
    expect(again.prefillTokens).toBe(1);
    // A one-row chunk at the same position attends the same keys.
    expectClose(`${name} recomputed logits`, await model.readLogits(), before, { atol: 1e-4, rtol: 1e-4 });
  });

  it('stops on abort with a consistent cache', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(17, 10);
    model.resetCache();
    const controller = new AbortController();
    const result = await model.generate(prompt, {
      maxNewTokens: 16,
      sampling: { temperature: 0.8, topK: 40, topP: 0.95, seed: 3 },
      chunkSize: CHUNK,
      attention: DENSE,
      // Aborting at the first token leaves the decode loop before its first step.
      onToken: () => controller.abort(),
      signal: controller.signal,
    });
    expect(result.stoppedBy).toBe('abort');
    expect(result.tokens).toHaveLength(1);
    expect(result.tokens[0]).toBeLessThan(model.config.vocabSize);
    expect(model.cachedTokens).toEqual(prompt);
  });

  it('rejects a prompt longer than the context', async () => {
    if (!runtime) return;
    await expect(model.prefill(randomPrompt(18, 97), { chunkSize: CHUNK, attention: DENSE })).rejects.toThrow(/97 tokens, more than the context length of 96/);
  });
});
