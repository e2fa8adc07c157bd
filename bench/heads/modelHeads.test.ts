import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_MODELS, writeTinyModel } from '../../scripts/tiny-models';
import { expectClose } from '../../test/expectClose';
import { FileSystemModelSource } from '../../test/fsSource';
import { parseModelConfig } from '../../src/model/config';
import { ReferenceModel } from '../../src/model/reference';
import { fetchJsonIfPresent } from '../../src/model/source';
import { readWeightsF32 } from '../../src/model/weights';
import { Random } from '../../src/util/random';
import { runModelForward } from './modelHeads';

// The CPU forwards take seconds each, and more on a loaded machine.
const FORWARD_TIMEOUT_MS = 60_000;

// Both forwards use the same f32 weights and f64 activations. Only the summation order of the
// attention differs, so logits of magnitude ~1 agree to about 1e-12.
const SAME_ARITHMETIC = { atol: 1e-9, rtol: 1e-9 };

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bench-heads-'));
  for (const spec of TINY_MODELS) await writeTinyModel(spec, join(root, spec.name));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function loadModel(name: string) {
  const source = new FileSystemModelSource(join(root, name));
  const config = parseModelConfig(await fetchJsonIfPresent(source, 'config.json'), await fetchJsonIfPresent(source, 'generation_config.json'));
  return { config, weights: await readWeightsF32(source, config) };
}

function randomTokens(count: number, vocab: number, seed: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => rng.int(vocab));
}

describe('runModelForward', () => {
  it.each(TINY_MODELS.map((spec) => spec.name))('%s logits match the reference model', async (name) => {
    const { config, weights } = await loadModel(name);
    // 23 tokens: not a multiple of any block size, and long enough for RoPE to rotate far.
    const tokens = randomTokens(23, config.vocabSize, 7);
    const expected = new ReferenceModel(config, weights).append(tokens);
    const { lastLogits } = runModelForward(config, weights, tokens);
    expect(lastLogits).toBeDefined();
    expectClose(`${name} logits`, lastLogits!, expected, SAME_ARITHMETIC);
  }, FORWARD_TIMEOUT_MS);

  it('captures causal heads: a prefix gives the leading rows', async () => {
    const { config, weights } = await loadModel('tiny-qwen3');
    const tokens = randomTokens(19, config.vocabSize, 11);
    const layer = config.numLayers - 1;
    const full = runModelForward(config, weights, tokens, { captureLayer: layer }).heads!;
    const prefix = runModelForward(config, weights, tokens.slice(0, 12), { captureLayer: layer }).heads!;
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = config;
    expect([full.q.length, full.k.length, full.v.length]).toEqual([19 * H * D, 19 * Hkv * D, 19 * Hkv * D]);
    // Later tokens must not change earlier rows of a causal model, to the last bit.
    expect(prefix.q).toEqual(full.q.subarray(0, 12 * H * D));
    expect(prefix.k).toEqual(full.k.subarray(0, 12 * Hkv * D));
    expect(prefix.v).toEqual(full.v.subarray(0, 12 * Hkv * D));
  }, FORWARD_TIMEOUT_MS);

  it('rejects a capture layer past the model', async () => {
    const { config, weights } = await loadModel('tiny-qwen2');
    expect(() => runModelForward(config, weights, [1, 2, 3], { captureLayer: config.numLayers })).toThrow(/capture layer/);
  }, FORWARD_TIMEOUT_MS);
});
