/**
 * Post-RoPE attention inputs of one layer of a model, computed on the CPU for the benchmark:
 * the prompt runs through layers 0 .. layer − 1 in full (causal attention included), then the
 * captured layer's q, k and v are taken after the projections, Qwen3's q/k norm and RoPE, which
 * is what prefill attention reads. The arithmetic follows src/model/reference.ts (Hugging Face
 * transformers semantics, f32 weights, f64 activations) but runs layer by layer over all tokens,
 * so a long prompt costs one pass per layer instead of one per token.
 *
 * Shapes: x [N, hidden]; q [N, H, D]; k, v [N, Hkv, D]; all row-major, token first.
 */
import { ropeOptions, type ModelConfig } from '../../src/model/config';
import { computeInvFreq } from '../../src/model/rope';
import { layerTensorName } from '../../src/model/weights';

export interface LayerHeads {
  layer: number;
  N: number;
  /** [N, H, D] f32 after RoPE. */
  q: Float32Array;
  /** [N, Hkv, D] f32 after RoPE. */
  k: Float32Array;
  /** [N, Hkv, D] f32. */
  v: Float32Array;
}

export interface ModelForwardResult {
  /** The captured layer's attention inputs, when `captureLayer` was given. */
  heads?: LayerHeads;
  /** Logits [vocab] of the last token, when the forward ran through every layer. */
  lastLogits?: Float32Array;
}

/**
 * Runs `tokens` through the model on the CPU. With `captureLayer` it stops at that layer's
 * attention and returns its inputs. Without it, it runs every layer and returns the last
 * token's logits, which the tests compare with the reference model's.
 */
export function runModelForward(
  config: ModelConfig,
  weights: Map<string, Float32Array>,
  tokens: ArrayLike<number>,
  options: { captureLayer?: number; onLayer?: (layer: number) => void } = {},
): ModelForwardResult {
  const { hiddenSize: hidden, numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize, rmsNormEps: eps, vocabSize } = config;
  const N = tokens.length;
  const { captureLayer } = options;
  if (N < 1) throw new Error('runModelForward: the prompt is empty');
  if (captureLayer !== undefined && (!Number.isInteger(captureLayer) || captureLayer < 0 || captureLayer >= config.numLayers)) {
    throw new Error(`runModelForward: capture layer ${captureLayer} is outside 0 .. ${config.numLayers - 1}`);
  }
  const weight = (name: string): Float32Array => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`runModelForward: weight "${name}" is missing`);
    return tensor;
  };
  const invFreq = computeInvFreq(ropeOptions(config));

  // Embedding lookup.
  const embedding = weight('model.embed_tokens.weight');
  const x = new Float64Array(N * hidden);
  for (let t = 0; t < N; t++) {
    const token = tokens[t];
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
      throw new Error(`runModelForward: token ${token} at index ${t} is outside the vocabulary of ${vocabSize}`);
    }
    for (let i = 0; i < hidden; i++) x[t * hidden + i] = embedding[token * hidden + i];
  }

  for (let layer = 0; layer < config.numLayers; layer++) {
    const w = (suffix: string) => weight(layerTensorName(layer, suffix));
    const optional = (suffix: string) => weights.get(layerTensorName(layer, suffix));

    // Attention inputs: pre-norm, projections, Qwen3's per-head q/k norm, RoPE.
    const h = rmsNormRows(x, w('input_layernorm.weight'), eps);
    const q = linearRows(h, N, hidden, w('self_attn.q_proj.weight'), H * D, optional('self_attn.q_proj.bias'));
    const k = linearRows(h, N, hidden, w('self_attn.k_proj.weight'), Hkv * D, optional('self_attn.k_proj.bias'));
    const v = linearRows(h, N, hidden, w('self_attn.v_proj.weight'), Hkv * D, optional('self_attn.v_proj.bias'));
    const qHeads = config.qkNorm ? rmsNormRows(q, w('self_attn.q_norm.weight'), eps) : q;
    const kHeads = config.qkNorm ? rmsNormRows(k, w('self_attn.k_norm.weight'), eps) : k;
    applyRopeRows(qHeads, N, H, D, invFreq);
    applyRopeRows(kHeads, N, Hkv, D, invFreq);
    if (layer === captureLayer) {
      return { heads: { layer, N, q: Float32Array.from(qHeads), k: Float32Array.from(kHeads), v: Float32Array.from(v) } };
    }

    // Attention block: causal GQA softmax, o_proj, residual.
    const attention = causalAttentionRows(qHeads, kHeads, v, N, H, Hkv, D);
    const o = linearRows(attention, N, H * D, w('self_attn.o_proj.weight'), hidden, optional('self_attn.o_proj.bias'));
    for (let i = 0; i < x.length; i++) x[i] += o[i];

    // MLP block: down(silu(gate(h)) * up(h)), residual.
    const h2 = rmsNormRows(x, w('post_attention_layernorm.weight'), eps);
    const gate = linearRows(h2, N, hidden, w('mlp.gate_proj.weight'), intermediateSize);
    const up = linearRows(h2, N, hidden, w('mlp.up_proj.weight'), intermediateSize);
    for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
    const down = linearRows(gate, N, intermediateSize, w('mlp.down_proj.weight'), hidden);
    for (let i = 0; i < x.length; i++) x[i] += down[i];
    options.onLayer?.(layer);
  }

  // Logits of the last token: final norm, then lm_head (the embedding when tied).
  const last = rmsNormRows(x.subarray((N - 1) * hidden), weight('model.norm.weight'), eps);
  const head = weight(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return { lastLogits: Float32Array.from(linearRows(last, 1, hidden, head, vocabSize)) };
}

/** y_t = W x_t (+ bias) for each of N rows; W is [out, in] row-major. */
function linearRows(x: Float64Array, N: number, inFeatures: number, w: Float32Array, outFeatures: number, bias?: Float32Array): Float64Array {
  const y = new Float64Array(N * outFeatures);
  for (let t = 0; t < N; t++) {
    const x_t = t * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const w_o = o * inFeatures;
      let sum = bias ? bias[o] : 0;
      for (let i = 0; i < inFeatures; i++) sum += w[w_o + i] * x[x_t + i];
      y[t * outFeatures + o] = sum;
    }
  }
  return y;
}

/** RMSNorm over each run of weight.length elements, weight applied after normalising. */
function rmsNormRows(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
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

/** Rotate-half RoPE in place on [N, heads, D]; token t sits at position t. */
function applyRopeRows(x: Float64Array, N: number, heads: number, D: number, invFreq: Float32Array): void {
  const half = D / 2;
  for (let t = 0; t < N; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * invFreq[i];
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = (t * heads + h) * D;
        const x1 = x[base + i];
        const x2 = x[base + i + half];
        x[base + i] = x1 * cos - x2 * sin;
        x[base + i + half] = x2 * cos + x1 * sin;
      }
    }
  }
}

/** Causal softmax attention over [N, H, D] queries and [N, Hkv, D] keys and values; head h reads KV head h / (H / Hkv). */
function causalAttentionRows(q: Float64Array, k: Float64Array, v: Float64Array, N: number, H: number, Hkv: number, D: number): Float64Array {
  const out = new Float64Array(N * H * D);
  const scale = 1 / Math.sqrt(D);
  const scores = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / Hkv));
      const q_rh = (r * H + h) * D;
      let max = -Infinity;
      for (let j = 0; j <= r; j++) {
        const k_jh = (j * Hkv + kvh) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[q_rh + d] * k[k_jh + d];
        scores[j] = dot * scale;
        if (scores[j] > max) max = scores[j];
      }
      let sum = 0;
      for (let j = 0; j <= r; j++) {
        scores[j] = Math.exp(scores[j] - max);
        sum += scores[j];
      }
      for (let j = 0; j <= r; j++) {
        const p = scores[j] / sum;
        const v_jh = (j * Hkv + kvh) * D;
        for (let d = 0; d < D; d++) out[q_rh + d] += p * v[v_jh + d];
      }
    }
  }
  return out;
}
