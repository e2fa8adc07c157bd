/**
 * Benchmark inputs: seeded synthetic heads with planted structure (src/attention/synthetic.ts), and
 * the post-RoPE Q/K/V of one layer of a tiny random-weight model run on a seeded prompt.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateSyntheticHead, SYNTHETIC_PRESETS, type SyntheticPresetName } from '../src/attention/synthetic';
import type { AttentionShape } from '../src/attention/types';
import { parseModelConfig, type ModelConfig } from '../src/model/config';
import { fetchJsonIfPresent } from '../src/model/source';
import { readWeightsF32 } from '../src/model/weights';
import { Random } from '../src/util/random';
import { FileSystemModelSource } from '../test/fsSource';
import type { AttentionInputs } from './anchor-metrics';
import { runModelForward, type LayerHeads } from './heads/modelHeads';

/** Recipe of an input, recorded beside its results so that a run can be repeated. */
export type InputDescription =
  | { kind: 'synthetic'; preset: SyntheticPresetName; seed: number; headDim: number; plan: { sinkKey: number | null; heavyColumns: number[]; needleKey: number | null; needleRows: number[] } }
  | {
      kind: 'model';
      model: string;
      architecture: string;
      layer: number;
      /** Query heads kept (0 .. heads - 1) of the model's numHeads. */
      heads: number;
      modelHeads: number;
      /** Token ids drawn uniformly from [0, vocab) with this seed. */
      tokenSeed: number;
      note: string;
    };

export interface BenchInput {
  name: string;
  inputs: AttentionInputs;
  description: InputDescription;
}

export const RANDOM_WEIGHTS_NOTE =
  'random weights: this attention pattern is not that of a trained model, so its density and recall say little about real prompts';

/** Generates one synthetic head (H = Hkv = 1) of N tokens from a preset. */
export function syntheticInput(preset: SyntheticPresetName, N: number, headDim: number, seed: number): BenchInput {
  const head = generateSyntheticHead({ N, D: headDim, seed, ...SYNTHETIC_PRESETS[preset] });
  const { sinkKey, heavyColumns, needleKey, needleRows } = head.plan;
  return {
    name: `synthetic ${preset}`,
    inputs: { N, shape: { numHeads: 1, numKvHeads: 1, headDim }, q: head.q, k: head.k, v: head.v },
    description: { kind: 'synthetic', preset, seed, headDim, plan: { sinkKey, heavyColumns, needleKey, needleRows } },
  };
}

/** A model's layer captured once at the longest prompt; shorter prompts are its leading rows (the model is causal). */
export interface ModelCapture {
  model: string;
  config: ModelConfig;
  heads: LayerHeads;
  tokenSeed: number;
}

/**
 * Loads a tiny model from `root`/`model` and captures the post-RoPE Q/K/V of `layer` (default: the
 * last) for a prompt of `N` seeded token ids. Runs on the CPU: layers before `layer` need full
 * causal attention, O(N²) per layer.
 */
export async function captureModelHeads(root: string, model: string, N: number, seed: number, layer: number | undefined, log: (line: string) => void): Promise<ModelCapture> {
  const folder = join(root, model);
  if (!existsSync(join(folder, 'config.json'))) {
    throw new Error(`model "${model}" not found at ${folder}; run \`npm run models:tiny\` or pass --models none`);
  }
  const source = new FileSystemModelSource(folder);
  const config = parseModelConfig(await fetchJsonIfPresent(source, 'config.json'), await fetchJsonIfPresent(source, 'generation_config.json'));
  const captureLayer = layer ?? config.numLayers - 1;
  if (captureLayer >= config.numLayers) throw new Error(`--model-layer ${captureLayer} is past ${model}'s ${config.numLayers} layers`);
  const weights = await readWeightsF32(source, config);
  const rng = new Random(seed);
  const tokens = Array.from({ length: N }, () => rng.int(config.vocabSize));
  const began = performance.now();
  const { heads } = runModelForward(config, weights, tokens, {
    captureLayer,
    onLayer: (done) => log(`  ${model}: layer ${done} of ${N} tokens done on the CPU (${((performance.now() - began) / 1000).toFixed(1)} s)`),
  });
  log(`  ${model}: captured layer ${captureLayer} of ${N} tokens in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  return { model, config, heads: heads!, tokenSeed: seed };
}

/** Query heads kept when at most `limit` are requested: whole GQA groups, at least one group. */
export function keptHeads(shape: AttentionShape, limit: number | undefined): number {
  const perKvHead = shape.numHeads / shape.numKvHeads;
  if (limit === undefined || limit >= shape.numHeads) return shape.numHeads;
  return Math.max(perKvHead, Math.floor(limit / perKvHead) * perKvHead);
}

/** Cuts a capture to its first N tokens and first `heads` query heads, with their KV heads. */
export function modelInput(capture: ModelCapture, N: number, heads: number): BenchInput {
  const { config, heads: captured } = capture;
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = config;
  if (N > captured.N) throw new Error(`modelInput: N = ${N} is longer than the captured ${captured.N} tokens`);
  const perKvHead = H / Hkv;
  if (heads < 1 || heads > H || heads % perKvHead !== 0) {
    throw new Error(`modelInput: ${heads} query heads is not a whole number of GQA groups of ${perKvHead} within ${H}`);
  }
  const kvHeads = heads / perKvHead;
  const q = new Float32Array(N * heads * D);
  const k = new Float32Array(N * kvHeads * D);
  const v = new Float32Array(N * kvHeads * D);
  for (let t = 0; t < N; t++) {
    q.set(captured.q.subarray(t * H * D, (t * H + heads) * D), t * heads * D);
    k.set(captured.k.subarray(t * Hkv * D, (t * Hkv + kvHeads) * D), t * kvHeads * D);
    v.set(captured.v.subarray(t * Hkv * D, (t * Hkv + kvHeads) * D), t * kvHeads * D);
  }
  return {
    name: `${capture.model} layer ${captured.layer}`,
    inputs: { N, shape: { numHeads: heads, numKvHeads: kvHeads, headDim: D }, q, k, v },
    description: {
      kind: 'model',
      model: capture.model,
      architecture: config.architecture,
      layer: captured.layer,
      heads,
      modelHeads: H,
      tokenSeed: capture.tokenSeed,
      note: RANDOM_WEIGHTS_NOTE,
    },
  };
}
