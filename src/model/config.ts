/**
 * Parses a Hugging Face config.json (and generation_config.json) for the decoder-only
 * architectures this app runs into one typed ModelConfig.
 */
import type { RopeOptions } from './rope';

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** model_type of each supported architecture, as transformers writes it into config.json. */
const MODEL_TYPES: Record<Architecture, string> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
};

/** The `llama3` RoPE frequency rule of Llama 3.1 and later (transformers' rope_type "llama3"). */
export interface Llama3RopeScaling {
  ropeType: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** Linear position interpolation: every inverse frequency is divided by `factor`. */
export interface LinearRopeScaling {
  ropeType: 'linear';
  factor: number;
}

export type RopeScaling = Llama3RopeScaling | LinearRopeScaling;

export interface ModelConfig {
  architecture: Architecture;
  modelType: string;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** null for plain RoPE (no rope_scaling, or rope_type "default"). */
  ropeScaling: RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** Biases on the q, k and v projections: always for Qwen2, `attention_bias` for Llama and Qwen3. */
  attentionBias: boolean;
  /** Bias on the output projection (`attention_bias` of Llama and Qwen3 covers o_proj too). */
  outputBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (Qwen3). */
  qkNorm: boolean;
  maxPositionEmbeddings: number;
  /** End-of-sequence ids from generation_config.json first, then config.json, without repeats. */
  eosTokenIds: number[];
  bosTokenId: number | null;
  /** torch_dtype as written in config.json, for display; the safetensors dtypes are what count. */
  torchDtype: string | null;
}

/** Builds the RoPE inputs of computeInvFreq, with rope_scaling in config.json's own field names. */
export function ropeOptions(config: ModelConfig): RopeOptions {
  const scaling = config.ropeScaling;
  let ropeScaling: RopeOptions['ropeScaling'] = null;
  if (scaling?.ropeType === 'linear') ropeScaling = { rope_type: 'linear', factor: scaling.factor };
  if (scaling?.ropeType === 'llama3') {
    ropeScaling = {
      rope_type: 'llama3',
      factor: scaling.factor,
      low_freq_factor: scaling.lowFreqFactor,
      high_freq_factor: scaling.highFreqFactor,
      original_max_position_embeddings: scaling.originalMaxPositionEmbeddings,
    };
  }
  return { headDim: config.headDim, ropeTheta: config.ropeTheta, ropeScaling };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}

function positiveInteger(json: Json, field: string, file: string): number {
  const value = json[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${file}: field "${field}" must be a positive integer, got ${show(value)}`);
  }
  return value;
}

function positiveNumber(json: Json, field: string, file: string, fallback?: number): number {
  const value = json[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${file}: field "${field}" must be a positive number, got ${show(json[field])}`);
  }
  return value;
}

function optionalBoolean(json: Json, field: string, file: string, fallback: boolean): boolean {
  const value = json[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new Error(`${file}: field "${field}" must be true or false, got ${show(value)}`);
  return value;
}

/** Reads a token id field that transformers allows as a number, a list of numbers or null. */
function tokenIds(json: Json | undefined, field: string, file: string): number[] {
  const value = json?.[field];
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`${file}: field "${field}" must be a token id or a list of token ids, got ${show(value)}`);
    }
  }
  return list as number[];
}

function parseRopeScaling(json: Json, file: string): RopeScaling | null {
  const raw = json.rope_scaling;
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) throw new Error(`${file}: field "rope_scaling" must be an object or null, got ${show(raw)}`);
  // Older configs name the rule "type", newer ones "rope_type".
  const ropeType = raw.rope_type ?? raw.type;
  const where = `${file}: rope_scaling`;
  if (ropeType === 'default') return null;
  if (ropeType === 'llama3') {
    return {
      ropeType,
      factor: positiveNumber(raw, 'factor', where),
      lowFreqFactor: positiveNumber(raw, 'low_freq_factor', where),
      highFreqFactor: positiveNumber(raw, 'high_freq_factor', where),
      originalMaxPositionEmbeddings: positiveInteger(raw, 'original_max_position_embeddings', where),
    };
  }
  if (ropeType === 'linear') return { ropeType, factor: positiveNumber(raw, 'factor', where) };
  throw new Error(`${file}: rope_scaling type ${show(ropeType)} is not supported; supported types are "default", "llama3" and "linear"`);
}

function architectureOf(json: Json, file: string): Architecture {
  const supported = SUPPORTED_ARCHITECTURES.join(', ');
  const architectures = json.architectures;
  const modelType = json.model_type;
  if (Array.isArray(architectures) && architectures.length > 0) {
    const name = architectures[0];
    if (!(SUPPORTED_ARCHITECTURES as readonly unknown[]).includes(name)) {
      throw new Error(`${file}: architecture ${show(name)} is not supported; supported architectures are ${supported}`);
    }
    const architecture = name as Architecture;
    if (modelType !== undefined && modelType !== MODEL_TYPES[architecture]) {
      throw new Error(`${file}: model_type ${show(modelType)} does not match architecture ${architecture}, which expects "${MODEL_TYPES[architecture]}"`);
    }
    return architecture;
  }
  const byType = SUPPORTED_ARCHITECTURES.find((candidate) => MODEL_TYPES[candidate] === modelType);
  if (!byType) {
    const types = SUPPORTED_ARCHITECTURES.map((candidate) => `"${MODEL_TYPES[candidate]}"`).join(', ');
    throw new Error(
      `${file}: model_type ${show(modelType)} with architectures ${show(architectures)} is not supported; ` +
        `supported architectures are ${supported} (model_type ${types})`,
    );
  }
  return byType;
}

/**
 * Parses config.json and, when present, generation_config.json. Throws an Error naming
 * the field and its value when a field is missing or invalid, and naming the architecture
 * and the supported ones when the model is of another kind.
 */
export function parseModelConfig(configJson: unknown, generationConfigJson?: unknown): ModelConfig {
  const file = 'config.json';
  if (!isObject(configJson)) throw new Error(`${file} must contain a JSON object, got ${show(configJson)}`);
  if (generationConfigJson !== undefined && !isObject(generationConfigJson)) {
    throw new Error(`generation_config.json must contain a JSON object, got ${show(generationConfigJson)}`);
  }
  const json = configJson;
  const architecture = architectureOf(json, file);

  const hiddenSize = positiveInteger(json, 'hidden_size', file);
  const numHeads = positiveInteger(json, 'num_attention_heads', file);
  const numKvHeads = json.num_key_value_heads === undefined || json.num_key_value_heads === null ? numHeads : positiveInteger(json, 'num_key_value_heads', file);
  if (numHeads % numKvHeads !== 0) {
    throw new Error(`${file}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  let headDim: number;
  if (json.head_dim === undefined || json.head_dim === null) {
    if (hiddenSize % numHeads !== 0) {
      throw new Error(`${file}: head_dim is missing and hidden_size (${hiddenSize}) is not a multiple of num_attention_heads (${numHeads})`);
    }
    headDim = hiddenSize / numHeads;
  } else {
    headDim = positiveInteger(json, 'head_dim', file);
  }
  // RoPE rotates pairs (i, i + D/2) and the f16 KV cache packs two values per u32.
  if (headDim % 2 !== 0) throw new Error(`${file}: head_dim must be even, got ${headDim}`);

  const hiddenAct = json.hidden_act ?? 'silu';
  if (hiddenAct !== 'silu') throw new Error(`${file}: field "hidden_act" must be "silu" for a SwiGLU MLP, got ${show(hiddenAct)}`);
  if (architecture === 'Qwen2ForCausalLM' && json.use_sliding_window === true) {
    throw new Error(`${file}: field "use_sliding_window" is true, but sliding-window attention is not supported; only full attention is`);
  }

  const mlpBias = optionalBoolean(json, 'mlp_bias', file, false);
  if (mlpBias) throw new Error(`${file}: field "mlp_bias" is true, but MLP biases are not supported`);
  // Llama and Qwen3 put `attention_bias` on q, k, v and o; Qwen2 always has q/k/v biases and none on o.
  const configAttentionBias = architecture !== 'Qwen2ForCausalLM' && optionalBoolean(json, 'attention_bias', file, false);

  const generation = generationConfigJson as Json | undefined;
  const eosTokenIds = [...new Set([...tokenIds(generation, 'eos_token_id', 'generation_config.json'), ...tokenIds(json, 'eos_token_id', file)])];
  const bosIds = [...tokenIds(generation, 'bos_token_id', 'generation_config.json'), ...tokenIds(json, 'bos_token_id', file)];
  const torchDtype = json.torch_dtype ?? json.dtype;

  return {
    architecture,
    modelType: MODEL_TYPES[architecture],
    hiddenSize,
    intermediateSize: positiveInteger(json, 'intermediate_size', file),
    numLayers: positiveInteger(json, 'num_hidden_layers', file),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: positiveInteger(json, 'vocab_size', file),
    rmsNormEps: positiveNumber(json, 'rms_norm_eps', file),
    ropeTheta: positiveNumber(json, 'rope_theta', file, 10000),
    ropeScaling: parseRopeScaling(json, file),
    tieWordEmbeddings: optionalBoolean(json, 'tie_word_embeddings', file, false),
    attentionBias: architecture === 'Qwen2ForCausalLM' || configAttentionBias,
    outputBias: configAttentionBias,
    qkNorm: architecture === 'Qwen3ForCausalLM',
    maxPositionEmbeddings: positiveInteger(json, 'max_position_embeddings', file),
    eosTokenIds,
    bosTokenId: bosIds.length > 0 ? bosIds[0] : null,
    torchDtype: typeof torchDtype === 'string' ? torchDtype : null,
  };
}
