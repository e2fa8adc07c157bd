/**
 * CPU reference of the transformer forward, written from the Hugging Face transformers
 * modelling code of Llama, Qwen2 and Qwen3 (not from the WGSL), for tests only. It uses the
 * stored weights decoded exactly to f32 and accumulates in f64, so its logits are close to the
 * exact result of those weights. Shapes: hidden state x_t [hidden], q_t [H, D], k_t and v_t
 * [Hkv, D] per token t; the KV cache contains every token's k and v per layer.
 */
import { f16ToF32, f32ToF16 } from '../util/halfFloat';
import { ropeOptions, type ModelConfig } from './config';
import { computeInvFreq } from './rope';
import { layerTensorName } from './weights';

export interface ReferenceOptions {
  /** Round K and V through f16 before they enter the cache, as the GPU's f16 KV cache does. */
  kvDtype?: 'f32' | 'f16';
}

function roundF16(value: number): number {
  return f16ToF32(f32ToF16(value));
}

/** y = W x for W [out, in] row-major (PyTorch's Linear layout), plus the bias when given. */
function linear(weight: Float32Array, x: Float64Array, outFeatures: number, bias?: Float32Array): Float64Array {
  const inFeatures = x.length;
  const y = new Float64Array(outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    let sum = bias ? bias[o] : 0;
    const row = o * inFeatures;
    for (let i = 0; i < inFeatures; i++) sum += weight[row + i] * x[i];
    y[o] = sum;
  }
  return y;
}

/** RMSNorm of each run of weight.length elements: x / sqrt(mean(x²) + eps), then times the weight. */
function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  const n = weight.length;
  const out = new Float64Array(x.length);
  for (let start = 0; start < x.length; start += n) {
    let sumSquares = 0;
    for (let i = 0; i < n; i++) sumSquares += x[start + i] ** 2;
    const inverse = 1 / Math.sqrt(sumSquares / n + eps);
    for (let i = 0; i < n; i++) out[start + i] = weight[i] * (x[start + i] * inverse);
  }
  return out;
}

/** Rotate-half RoPE in place on [heads, D]: pairs (i, i + D/2) rotate by position × invFreq[i]. */
function applyRope(x: Float64Array, heads: number, headDim: number, invFreq: Float32Array, position: number): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = position * invFreq[i];
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    for (let h = 0; h < heads; h++) {
      const base = h * headDim;
      const x1 = x[base + i];
      const x2 = x[base + i + half];
      x[base + i] = x1 * cos - x2 * sin;
      x[base + i + half] = x2 * cos + x1 * sin;
    }
  }
}

function silu(value: number): number {
  return value / (1 + Math.exp(-value));
}

/**
 * A model on the CPU with its own KV cache: `append` runs tokens at the next positions and
 * returns the logits of the last one.
 */
export class ReferenceModel {
  /** Per layer, per cached token: k_t and v_t as [Hkv, D]. */
  private readonly keys: Float64Array[][];
  private readonly values: Float64Array[][];
  private readonly invFreq: Float32Array;
  readonly tokens: number[] = [];

  constructor(
    readonly config: ModelConfig,
    private readonly weights: Map<string, Float32Array>,
    private readonly options: ReferenceOptions = {},
  ) {
    this.keys = Array.from({ length: config.numLayers }, () => []);
    this.values = Array.from({ length: config.numLayers }, () => []);
    this.invFreq = computeInvFreq(ropeOptions(config));
  }

  private weight(name: string): Float32Array {
    const tensor = this.weights.get(name);
    if (!tensor) throw new Error(`reference: weight "${name}" is missing`);
    return tensor;
  }

  /** Runs `tokens` after the cached ones and returns the logits [vocab] of the last token. */
  append(tokens: number[]): Float32Array {
    if (tokens.length === 0) throw new Error('reference: append needs at least one token');
    let last: Float64Array | undefined;
    for (const token of tokens) last = this.step(token);
    return this.logits(last!);
  }

  /** Greedy generation: `count` tokens after `prompt`, each the argmax of the previous logits. */
  generateGreedy(prompt: number[], count: number): number[] {
    const generated: number[] = [];
    let logits = this.append(prompt);
    for (let i = 0; i < count; i++) {
      const next = argmax(logits);
      generated.push(next);
      if (i + 1 < count) logits = this.append([next]);
    }
    return generated;
  }

  /** One token through every layer; returns its final hidden state before the last norm. */
  private step(token: number): Float64Array {
    const { hiddenSize: hidden, numHeads, numKvHeads, headDim, intermediateSize, rmsNormEps: eps } = this.config;
    const position = this.tokens.length;
    if (token < 0 || token >= this.config.vocabSize) throw new Error(`reference: token ${token} is outside the vocabulary of ${this.config.vocabSize}`);
    const embedding = this.weight('model.embed_tokens.weight');
    let x: Float64Array = Float64Array.from(embedding.subarray(token * hidden, (token + 1) * hidden));

    for (let layer = 0; layer < this.config.numLayers; layer++) {
      const w = (suffix: string) => this.weight(layerTensorName(layer, suffix));
      const optional = (suffix: string) => this.weights.get(layerTensorName(layer, suffix));

      // Attention block: pre-norm, projections, Qwen3's per-head q/k norm, RoPE, cache, GQA softmax.
      const h = rmsNorm(x, w('input_layernorm.weight'), eps);
      let q = linear(w('self_attn.q_proj.weight'), h, numHeads * headDim, optional('self_attn.q_proj.bias'));
      let k = linear(w('self_attn.k_proj.weight'), h, numKvHeads * headDim, optional('self_attn.k_proj.bias'));
      const v = linear(w('self_attn.v_proj.weight'), h, numKvHeads * headDim, optional('self_attn.v_proj.bias'));
      if (this.config.qkNorm) {
        q = rmsNorm(q, w('self_attn.q_norm.weight'), eps);
        k = rmsNorm(k, w('self_attn.k_norm.weight'), eps);
      }
      applyRope(q, numHeads, headDim, this.invFreq, position);
      applyRope(k, numKvHeads, headDim, this.invFreq, position);
      if (this.options.kvDtype === 'f16') {
        for (let i = 0; i < k.length; i++) {
          k[i] = roundF16(k[i]);
          v[i] = roundF16(v[i]);
        }
      }
      this.keys[layer].push(k);
      this.values[layer].push(v);
      const attention = this.attend(layer, q);
      const o = linear(w('self_attn.o_proj.weight'), attention, hidden, optional('self_attn.o_proj.bias'));
      for (let i = 0; i < hidden; i++) x[i] += o[i];

      // MLP block: down(silu(gate(h)) * up(h)).
      const h2 = rmsNorm(x, w('post_attention_layernorm.weight'), eps);
      const gate = linear(w('mlp.gate_proj.weight'), h2, intermediateSize);
      const up = linear(w('mlp.up_proj.weight'), h2, intermediateSize);
      for (let i = 0; i < intermediateSize; i++) gate[i] = silu(gate[i]) * up[i];
      const down = linear(w('mlp.down_proj.weight'), gate, hidden);
      x = x.map((value, i) => value + down[i]);
    }
    this.tokens.push(token);
    return x;
  }

  /** Causal attention of the newest query over every cached key; query head h reads KV head h / (H / Hkv). */
  private attend(layer: number, q: Float64Array): Float64Array {
    const { numHeads, numKvHeads, headDim } = this.config;
    const keys = this.keys[layer];
    const values = this.values[layer];
    const groupSize = numHeads / numKvHeads;
    const scale = 1 / Math.sqrt(headDim);
    const out = new Float64Array(numHeads * headDim);
    const scores = new Float64Array(keys.length);
    for (let h = 0; h < numHeads; h++) {
      const kvBase = Math.floor(h / groupSize) * headDim;
      let max = -Infinity;
      for (let j = 0; j < keys.length; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[h * headDim + d] * keys[j][kvBase + d];
        scores[j] = dot * scale;
        max = Math.max(max, scores[j]);
      }
      let sum = 0;
      for (let j = 0; j < keys.length; j++) {
        scores[j] = Math.exp(scores[j] - max);
        sum += scores[j];
      }
      for (let j = 0; j < keys.length; j++) {
        const p = scores[j] / sum;
        for (let d = 0; d < headDim; d++) out[h * headDim + d] += p * values[j][kvBase + d];
      }
    }
    return out;
  }

  private logits(x: Float64Array): Float32Array {
    const { hiddenSize: hidden, vocabSize } = this.config;
    const normed = rmsNorm(x, this.weight('model.norm.weight'), this.config.rmsNormEps);
    const head = this.weight(this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
    const logits = new Float32Array(vocabSize);
    for (let t = 0; t < vocabSize; t++) {
      let sum = 0;
      const row = t * hidden;
      for (let i = 0; i < hidden; i++) sum += head[row + i] * normed[i];
      logits[t] = sum;
    }
    return logits;
  }
}

/** Index of the largest value; the first one on ties, as torch.argmax returns. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
