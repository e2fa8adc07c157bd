import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config';
import { estimateModelMemory, fitContextLength, modelWeightBytes, type MemoryOptions } from './memory';

// Qwen2.5-0.5B-Instruct's config.json (the fields the estimate reads).
const QWEN25_05B = parseModelConfig({
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 151936,
  hidden_act: 'silu',
  use_sliding_window: false,
});

// Elements: embedding 151936 · 896 = 136,134,656; per layer q, o 896 · 896 = 802,816 each,
// k, v 128 · 896 = 114,688 each, gate, up, down 4864 · 896 = 4,358,144 each (linear 14,909,440),
// norms 2 · 896 and q/k/v biases 896 + 128 + 128 (2,944); 24 layers: 357,897,216; final norm 896.
// Sum 494,032,768 elements, 988,065,536 bytes in bf16.
const WEIGHT_BYTES = 988_065_536;
const BASE: MemoryOptions = { weightBytes: WEIGHT_BYTES, weightDtype: 'bf16', contextLength: 32768, kvDtype: 'f16', chunkSize: 512 };

describe('estimateModelMemory', () => {
  it('counts Qwen2.5-0.5B weights from its shapes', () => {
    expect(modelWeightBytes(QWEN25_05B, 'bf16')).toBe(WEIGHT_BYTES);
  });

  it('estimates Qwen2.5-0.5B with q8 and dense prefill', () => {
    const estimate = estimateModelMemory(QWEN25_05B, { ...BASE, quantize: 'q8' });

    // q8, groups of 32, bytes per row = (ceil(in / 4) + ceil(in / 32)) · 4:
    // in 896: (224 + 28) · 4 = 1008; in 4864: (1216 + 152) · 4 = 5472.
    // Per layer q, o 896 · 1008 = 903,168; k, v 128 · 1008 = 129,024; gate, up 4864 · 1008 = 4,902,912;
    // down 896 · 5472 = 4,902,912; sum 16,773,120, which is 0.5625 of the 29,818,880 bf16 bytes.
    // The tied lm_head stays the bf16 embedding.
    expect(estimate.breakdown.quantized).toEqual({ matrices: 168, storedBytes: 715_653_120, q8Bytes: 402_554_880 });
    // 988,065,536 − 715,653,120 + 402,554,880.
    expect(estimate.weights).toBe(674_967_296);
    // f16 keys and values: 2 · 24 layers · 2 KV heads · 32768 · 64 · 2 bytes.
    expect(estimate.kvCache).toBe(402_653_184);
    expect(estimate.breakdown.kvLayerBuffer).toBe(8_388_608);
    // Workspace at 512 rows, f32: tokens 2,048; residual ×2, normed, projected 512 · 896 · 4 = 1,835,008 each;
    // q, attention 512 · 14 · 64 · 4 = 1,835,008 each; k, v 262,144 each; gate, up, activated 512 · 4864 · 4
    // = 9,961,472 each; last hidden and last normed 3,584 each; logits 151936 · 4 = 607,744; inv_freq 128.
    expect(estimate.breakdown.workspace).toBe(42_035_840);
    // Token 4, readback 4, sampling state 48 and ceil(151936 / 2048) = 75 partials of 8 bytes.
    expect(estimate.breakdown.sampling).toBe(656);
    expect(estimate.breakdown.anchorTemporaries).toBe(0);
    expect(estimate.activations).toBe(42_036_496);
    expect(estimate.total).toBe(1_119_656_976);
  });

  it('estimates Qwen2.5-0.5B with AnchorAttention prefill', () => {
    const estimate = estimateModelMemory(QWEN25_05B, { ...BASE, attention: 'anchor' });

    expect(estimate.weights).toBe(WEIGHT_BYTES);
    // Chunks are groups of G = 128 · 16 = 2048 rows: the row-dependent workspace (41,420,800 at 512 rows) times 4,
    // plus last hidden, last normed, logits and inv_freq (615,040).
    expect(estimate.breakdown.workspaceRows).toBe(2048);
    expect(estimate.breakdown.workspace).toBe(166_298_240);
    // Largest sparse group g = 15: local region from 15 · 2048 = 30720, init region up to 2048, C = 28672.
    expect(estimate.breakdown.anchorMaxCandidates).toBe(28672);
    // Per layer: stats 14 · 2048 · 2 · 4 = 229,376; acc 14 · 2048 · 64 · 4 = 7,340,032; indices, scores, flags
    // 14 · 28672 · 4 = 1,605,632 each; counts 56; mean queries 14 · 16 · 64 · 4 = 57,344; mean anchors 896;
    // block counts 14 · 448 · 4 = 25,088. Sum 12,469,688, times 24 layers.
    expect(estimate.breakdown.anchorTemporaries).toBe(299_272_512);
    expect(estimate.total).toBe(988_065_536 + 402_653_184 + 166_298_240 + 656 + 299_272_512);
  });

  it('rejects weightBytes below the linear weights', () => {
    expect(() => estimateModelMemory(QWEN25_05B, { ...BASE, weightBytes: 1000, quantize: 'q8' })).toThrow(
      'estimateModelMemory: weightBytes is 1000, less than the 715653120 bytes of the linear weights alone in bf16',
    );
  });
});

describe('fitContextLength', () => {
  const LIMITS = { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 };
  const options = { weightBytes: WEIGHT_BYTES, weightDtype: 'bf16', kvDtype: 'f16', chunkSize: 512 } as const;

  it('returns the longest multiple of 256 within the budget', () => {
    // Fixed bytes: weights 988,065,536 + activations 42,036,496 = 1,030,102,032; the KV cache adds
    // 12,288 bytes per token. A 1 GiB budget leaves 43,639,792 bytes: 3551 tokens, so 3328 = 13 · 256.
    const fit = fitContextLength(QWEN25_05B, LIMITS, 2 ** 30, options);
    expect(fit.contextLength).toBe(3328);
  });

  it('caps at max_position_embeddings', () => {
    const fit = fitContextLength(QWEN25_05B, LIMITS, 2 ** 40, options);
    expect(fit.contextLength).toBe(32768);
  });

  it('explains a budget below the weights', () => {
    const fit = fitContextLength(QWEN25_05B, LIMITS, 500_000_000, options);
    expect(fit.contextLength).toBeNull();
    if (fit.contextLength === null) {
      expect(fit.reason).toContain('No context length fits: at 256 tokens, it needs');
      expect(fit.reason).toContain('more than the budget of 476.8 MiB (500000000 bytes)');
    }
  });

  it('explains a buffer above the binding limit', () => {
    // gate_proj is 4864 · 896 · 2 = 8,716,288 bytes in bf16, above an 8 MiB binding limit at any context.
    const fit = fitContextLength(QWEN25_05B, { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 23 }, 2 ** 40, options);
    expect(fit.contextLength).toBeNull();
    if (fit.contextLength === null) {
      expect(fit.reason).toBe(
        "No context length fits: at 256 tokens, layers.0.gate_proj needs one buffer of 8.3 MiB (8716288 bytes), more than the adapter's limit of 8.0 MiB (8388608 bytes)",
      );
    }
  });
});
