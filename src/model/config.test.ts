import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config';

/** Qwen2.5-0.5B-Instruct's config.json, trimmed to the fields the parser reads. */
const QWEN2 = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  vocab_size: 151936,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  max_position_embeddings: 32768,
  tie_word_embeddings: true,
  use_sliding_window: false,
  hidden_act: 'silu',
  bos_token_id: 151643,
  eos_token_id: 151645,
  torch_dtype: 'bfloat16',
};

const QWEN3 = {
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  attention_bias: false,
  vocab_size: 151936,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  rope_scaling: null,
  max_position_embeddings: 40960,
  tie_word_embeddings: true,
  hidden_act: 'silu',
  bos_token_id: 151643,
  eos_token_id: 151645,
};

const LLAMA = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  attention_bias: false,
  mlp_bias: false,
  vocab_size: 128256,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  max_position_embeddings: 131072,
  tie_word_embeddings: true,
  hidden_act: 'silu',
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
};

describe('parseModelConfig', () => {
  it('parses a Qwen2 config with q/k/v biases and a derived head_dim', () => {
    const config = parseModelConfig(QWEN2, { bos_token_id: 151643, eos_token_id: [151645, 151643] });
    expect(config.architecture).toBe('Qwen2ForCausalLM');
    expect(config.headDim).toBe(64);
    expect(config.numHeads).toBe(14);
    expect(config.numKvHeads).toBe(2);
    expect(config.attentionBias).toBe(true);
    expect(config.outputBias).toBe(false);
    expect(config.qkNorm).toBe(false);
    expect(config.tieWordEmbeddings).toBe(true);
    expect(config.ropeScaling).toBeNull();
    expect(config.eosTokenIds).toEqual([151645, 151643]);
    expect(config.bosTokenId).toBe(151643);
    expect(config.torchDtype).toBe('bfloat16');
  });

  it('parses a Qwen3 config with q/k norm and an explicit head_dim', () => {
    const config = parseModelConfig(QWEN3);
    expect(config.architecture).toBe('Qwen3ForCausalLM');
    expect(config.headDim).toBe(128);
    expect(config.hiddenSize).toBe(1024);
    expect(config.qkNorm).toBe(true);
    expect(config.attentionBias).toBe(false);
    expect(config.eosTokenIds).toEqual([151645]);
  });

  it('parses a Llama config with llama3 rope_scaling and an eos list', () => {
    const config = parseModelConfig(LLAMA);
    expect(config.architecture).toBe('LlamaForCausalLM');
    expect(config.ropeScaling).toEqual({ ropeType: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(config.eosTokenIds).toEqual([128001, 128008, 128009]);
    expect(config.attentionBias).toBe(false);
    expect(config.maxPositionEmbeddings).toBe(131072);
  });

  it('merges eos ids of both files without repeats', () => {
    const config = parseModelConfig(LLAMA, { eos_token_id: [128009, 128001] });
    expect(config.eosTokenIds).toEqual([128009, 128001, 128008]);
  });

  it('reads Llama attention_bias as q/k/v and o biases', () => {
    const config = parseModelConfig({ ...LLAMA, attention_bias: true });
    expect(config.attentionBias).toBe(true);
    expect(config.outputBias).toBe(true);
  });

  it('defaults num_key_value_heads to num_attention_heads', () => {
    const { num_key_value_heads: _omitted, ...rest } = QWEN2;
    expect(parseModelConfig(rest).numKvHeads).toBe(14);
  });

  it('finds the architecture from model_type alone', () => {
    const { architectures: _omitted, ...rest } = QWEN3;
    expect(parseModelConfig(rest).architecture).toBe('Qwen3ForCausalLM');
  });

  it('rejects an unsupported architecture by name', () => {
    const config = { ...QWEN2, architectures: ['MistralForCausalLM'], model_type: 'mistral' };
    expect(() => parseModelConfig(config)).toThrow(/architecture "MistralForCausalLM" is not supported; supported architectures are LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM/);
  });

  it('rejects an unsupported model_type by name', () => {
    const { architectures: _omitted, ...rest } = { ...QWEN2, model_type: 'gemma2' };
    expect(() => parseModelConfig(rest)).toThrow(/model_type "gemma2".*not supported/);
  });

  it('rejects a model_type that contradicts the architecture', () => {
    expect(() => parseModelConfig({ ...QWEN2, model_type: 'llama' })).toThrow(/model_type "llama" does not match architecture Qwen2ForCausalLM/);
  });

  it('names a missing field', () => {
    const { hidden_size: _omitted, ...rest } = QWEN2;
    expect(() => parseModelConfig(rest)).toThrow(/field "hidden_size" must be a positive integer, got missing/);
  });

  it('names an invalid field and its value', () => {
    expect(() => parseModelConfig({ ...QWEN2, num_hidden_layers: -3 })).toThrow(/"num_hidden_layers" must be a positive integer, got -3/);
    expect(() => parseModelConfig({ ...QWEN2, rms_norm_eps: 'small' })).toThrow(/"rms_norm_eps" must be a positive number, got "small"/);
    expect(() => parseModelConfig({ ...QWEN2, eos_token_id: 'end' })).toThrow(/"eos_token_id" must be a token id or a list of token ids, got "end"/);
  });

  it('rejects heads that do not divide into KV heads', () => {
    expect(() => parseModelConfig({ ...QWEN2, num_key_value_heads: 3 })).toThrow(/num_attention_heads \(14\) must be a multiple of num_key_value_heads \(3\)/);
  });

  it('rejects an unsupported rope_scaling type by name', () => {
    expect(() => parseModelConfig({ ...LLAMA, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/rope_scaling type "yarn" is not supported/);
  });

  it('rejects sliding-window attention', () => {
    expect(() => parseModelConfig({ ...QWEN2, use_sliding_window: true })).toThrow(/use_sliding_window/);
  });

  it('rejects a config that is not an object', () => {
    expect(() => parseModelConfig([1, 2])).toThrow(/config.json must contain a JSON object/);
  });
});
