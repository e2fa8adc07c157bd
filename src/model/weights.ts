/**
 * Maps Hugging Face tensor names to the transformer's weights, checks their shapes against
 * config.json, and uploads them to the GPU as stored (bf16 or f16 packed two per u32, or f32).
 * The embedding and lm_head are row-split so that a vocabulary-sized table fits under the
 * storage binding limit.
 */
import type { DType, RowSplitTensor, Tensor } from '../gpu/buffers';
import type { GpuRuntime } from '../gpu/dispatch';
import { decode16 } from '../util/halfFloat';
import type { ModelConfig } from './config';
import {
  parseSafetensorsHeader,
  parseSafetensorsIndex,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  tensorBytes,
  type SafetensorsDType,
  type SafetensorsHeader,
} from './safetensors';
import { fetchJsonIfPresent, type ModelSource } from './source';
import { destroyQuantizedWeight, isQuantizedWeight, quantizeWeight, type LinearWeight, type Q8GroupSize } from './ops/quant';

export interface LayerWeights {
  inputNorm: Tensor;
  qProj: LinearWeight;
  kProj: LinearWeight;
  vProj: LinearWeight;
  oProj: LinearWeight;
  qBias?: Tensor;
  kBias?: Tensor;
  vBias?: Tensor;
  oBias?: Tensor;
  /** Per-head RMSNorm weights [headDim] of Qwen3. */
  qNorm?: Tensor;
  kNorm?: Tensor;
  postAttentionNorm: Tensor;
  gateProj: LinearWeight;
  upProj: LinearWeight;
  downProj: LinearWeight;
}

export interface ModelWeights {
  embedding: RowSplitTensor;
  layers: LayerWeights[];
  finalNorm: Tensor;
  /** The embedding itself when the model ties its word embeddings (never quantized then, because the embedding gather reads it as stored). */
  lmHead: LinearWeight;
  tied: boolean;
}

/** Progress of loading: downloading a weight file, then uploading its tensors. */
export type LoadProgress =
  | { stage: 'download'; file: string; fileIndex: number; fileCount: number; loaded: number; total?: number; fromCache: boolean }
  | { stage: 'upload'; file: string; fileIndex: number; fileCount: number; tensorsDone: number; tensorCount: number };

const STORAGE_DTYPE: Record<SafetensorsDType, DType> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };

/** Hugging Face name of a per-layer tensor. */
export function layerTensorName(layer: number, suffix: string): string {
  return `model.layers.${layer}.${suffix}`;
}

/** Lists every tensor the model needs, by Hugging Face name, with the shape config.json implies. */
export function expectedWeightShapes(config: ModelConfig): Map<string, number[]> {
  const { hiddenSize: hidden, numHeads, numKvHeads, headDim, intermediateSize, vocabSize } = config;
  const shapes = new Map<string, number[]>();
  shapes.set('model.embed_tokens.weight', [vocabSize, hidden]);
  for (let layer = 0; layer < config.numLayers; layer++) {
    const name = (suffix: string) => layerTensorName(layer, suffix);
    shapes.set(name('input_layernorm.weight'), [hidden]);
    shapes.set(name('self_attn.q_proj.weight'), [numHeads * headDim, hidden]);
    shapes.set(name('self_attn.k_proj.weight'), [numKvHeads * headDim, hidden]);
    shapes.set(name('self_attn.v_proj.weight'), [numKvHeads * headDim, hidden]);
    shapes.set(name('self_attn.o_proj.weight'), [hidden, numHeads * headDim]);
    if (config.attentionBias) {
      shapes.set(name('self_attn.q_proj.bias'), [numHeads * headDim]);
      shapes.set(name('self_attn.k_proj.bias'), [numKvHeads * headDim]);
      shapes.set(name('self_attn.v_proj.bias'), [numKvHeads * headDim]);
    }
    if (config.outputBias) shapes.set(name('self_attn.o_proj.bias'), [hidden]);
    if (config.qkNorm) {
      shapes.set(name('self_attn.q_norm.weight'), [headDim]);
      shapes.set(name('self_attn.k_norm.weight'), [headDim]);
    }
    shapes.set(name('post_attention_layernorm.weight'), [hidden]);
    shapes.set(name('mlp.gate_proj.weight'), [intermediateSize, hidden]);
    shapes.set(name('mlp.up_proj.weight'), [intermediateSize, hidden]);
    shapes.set(name('mlp.down_proj.weight'), [hidden, intermediateSize]);
  }
  shapes.set('model.norm.weight', [hidden]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [vocabSize, hidden]);
  return shapes;
}

/**
 * Checks the tensors of one weight file against the expected shapes. Tensors the model does
 * not use (a tied checkpoint's copy of lm_head, rotary inv_freq buffers) are ignored.
 */
export function checkWeightShapes(header: SafetensorsHeader, expected: Map<string, number[]>): void {
  for (const [name, info] of header.tensors) {
    const shape = expected.get(name);
    if (!shape) continue;
    if (shape.length !== info.shape.length || shape.some((size, axis) => size !== info.shape[axis])) {
      throw new Error(`${header.file}: tensor "${name}" has shape [${info.shape.join(', ')}], but config.json implies [${shape.join(', ')}]`);
    }
  }
}

function missingTensorsError(missing: string[], where: string): Error {
  const listed = missing.slice(0, 5).map((name) => `"${name}"`).join(', ');
  const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
  return new Error(`${where}: missing tensor${missing.length > 1 ? 's' : ''} ${listed}${more} that config.json requires`);
}

/** Weight files of a model: one model.safetensors, or the shards its index lists. */
export async function weightFiles(source: ModelSource, expected: Map<string, number[]>, signal?: AbortSignal): Promise<string[]> {
  const indexJson = await fetchJsonIfPresent(source, SAFETENSORS_INDEX_FILE);
  signal?.throwIfAborted();
  if (indexJson === undefined) {
    if (!(await source.has(SAFETENSORS_FILE))) {
      throw new Error(`${source.name}: neither ${SAFETENSORS_FILE} nor ${SAFETENSORS_INDEX_FILE} was found`);
    }
    return [SAFETENSORS_FILE];
  }
  const index = parseSafetensorsIndex(indexJson, `${source.name}/${SAFETENSORS_INDEX_FILE}`);
  const missing = [...expected.keys()].filter((name) => !index.weightMap.has(name));
  if (missing.length > 0) throw missingTensorsError(missing, `${source.name}/${SAFETENSORS_INDEX_FILE}`);
  // Shards that hold none of the needed tensors are not downloaded.
  const needed = new Set([...expected.keys()].map((name) => index.weightMap.get(name)));
  return index.files.filter((file) => needed.has(file));
}

/**
 * Downloads each weight file, validates it and calls `visit` for every tensor the model
 * needs, one file at a time so that only one file's bytes are held at once. Throws when a
 * needed tensor is in no file.
 */
export async function forEachWeight(
  source: ModelSource,
  config: ModelConfig,
  visit: (name: string, dtype: SafetensorsDType, shape: number[], bytes: Uint8Array, file: string) => void,
  options: { onProgress?: (progress: LoadProgress) => void; signal?: AbortSignal } = {},
): Promise<void> {
  const { onProgress, signal } = options;
  const expected = expectedWeightShapes(config);
  const files = await weightFiles(source, expected, signal);
  const seen = new Set<string>();
  for (const [fileIndex, file] of files.entries()) {
    const base = { file, fileIndex, fileCount: files.length };
    const buffer = await source.fetchBytes(
      file,
      (progress) => onProgress?.({ stage: 'download', ...base, loaded: progress.loaded, total: progress.total, fromCache: progress.fromCache }),
      signal,
    );
    signal?.throwIfAborted();
    const bytes = new Uint8Array(buffer);
    const header = parseSafetensorsHeader(bytes, `${source.name}/${file}`);
    checkWeightShapes(header, expected);
    const names = [...header.tensors.keys()].filter((name) => expected.has(name) && !seen.has(name));
    for (const [done, name] of names.entries()) {
      signal?.throwIfAborted();
      const info = header.tensors.get(name)!;
      visit(name, info.dtype, info.shape, tensorBytes(header, bytes, name), header.file);
      seen.add(name);
      onProgress?.({ stage: 'upload', ...base, tensorsDone: done + 1, tensorCount: names.length });
    }
  }
  const missing = [...expected.keys()].filter((name) => !seen.has(name));
  if (missing.length > 0) throw missingTensorsError(missing, source.name);
}

/** Decodes stored tensor bytes to f32 exactly (bf16 and f16 widen without rounding). */
export function decodeToF32(dtype: SafetensorsDType, bytes: Uint8Array): Float32Array {
  // Copy first: a tensor inside a file need not start on a 2- or 4-byte boundary.
  const aligned = bytes.slice().buffer;
  if (dtype === 'F32') return new Float32Array(aligned);
  return decode16(new Uint16Array(aligned), dtype === 'BF16' ? 'bf16' : 'f16');
}

/** Reads every weight the model needs as f32, by Hugging Face name. For the CPU reference. */
export async function readWeightsF32(source: ModelSource, config: ModelConfig): Promise<Map<string, Float32Array>> {
  const weights = new Map<string, Float32Array>();
  await forEachWeight(source, config, (name, dtype, _shape, bytes) => weights.set(name, decodeToF32(dtype, bytes)));
  return weights;
}

/**
 * Downloads, checks and uploads every weight. On failure or abort, whatever was already
 * uploaded is destroyed before the error propagates.
 */
export async function uploadWeights(
  runtime: GpuRuntime,
  source: ModelSource,
  config: ModelConfig,
  options: {
    onProgress?: (progress: LoadProgress) => void;
    signal?: AbortSignal;
    /** Largest part of the row-split embedding and lm_head; the device's storage binding limit by default. */
    maxBindingBytes?: number;
    /** Quantize every linear weight (and an untied lm_head) to q8 on the GPU right after its upload. */
    quantize?: { groupSize: Q8GroupSize } | null;
  } = {},
): Promise<ModelWeights> {
  const { allocator } = runtime;
  const uploaded = new Map<string, LinearWeight>();
  try {
    await forEachWeight(
      source,
      config,
      (name, dtype, shape, bytes) => {
        const label = name.replace(/^model\./, '');
        let tensor: Tensor | RowSplitTensor;
        if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') {
          tensor = allocator.createRowSplitTensor(label, shape, STORAGE_DTYPE[dtype], bytes, options.maxBindingBytes);
        } else {
          tensor = allocator.createTensorFrom(label, shape, STORAGE_DTYPE[dtype], bytes);
        }
        if (options.quantize && isQuantizedName(name)) {
          // The stored copy is destroyed once the quantize pass is submitted, so at most one matrix is held twice.
          const quantized = quantizeWeight(runtime, tensor, options.quantize);
          allocator.destroyTensor(tensor);
          uploaded.set(name, quantized);
          return;
        }
        uploaded.set(name, tensor);
      },
      options,
    );
  } catch (error) {
    uploaded.forEach((tensor) => destroyLinear(runtime, tensor));
    throw error;
  }
  return assembleWeights(config, uploaded);
}

/** Linear weights that q8 replaces, by Hugging Face name; the embedding and norms stay as stored. */
function isQuantizedName(name: string): boolean {
  return name === 'lm_head.weight' || /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/.test(name);
}

function destroyLinear(runtime: GpuRuntime, weight: LinearWeight): void {
  if (isQuantizedWeight(weight)) destroyQuantizedWeight(runtime, weight);
  else runtime.allocator.destroyTensor(weight);
}

function assembleWeights(config: ModelConfig, uploaded: Map<string, LinearWeight>): ModelWeights {
  const dense = (name: string) => uploaded.get(name) as Tensor;
  const linear = (name: string) => uploaded.get(name)!;
  const optional = (name: string) => uploaded.get(name) as Tensor | undefined;
  const embedding = uploaded.get('model.embed_tokens.weight') as RowSplitTensor;
  const layers: LayerWeights[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const name = (suffix: string) => layerTensorName(layer, suffix);
    layers.push({
      inputNorm: dense(name('input_layernorm.weight')),
      qProj: linear(name('self_attn.q_proj.weight')),
      kProj: linear(name('self_attn.k_proj.weight')),
      vProj: linear(name('self_attn.v_proj.weight')),
      oProj: linear(name('self_attn.o_proj.weight')),
      qBias: optional(name('self_attn.q_proj.bias')),
      kBias: optional(name('self_attn.k_proj.bias')),
      vBias: optional(name('self_attn.v_proj.bias')),
      oBias: optional(name('self_attn.o_proj.bias')),
      qNorm: optional(name('self_attn.q_norm.weight')),
      kNorm: optional(name('self_attn.k_norm.weight')),
      postAttentionNorm: dense(name('post_attention_layernorm.weight')),
      gateProj: linear(name('mlp.gate_proj.weight')),
      upProj: linear(name('mlp.up_proj.weight')),
      downProj: linear(name('mlp.down_proj.weight')),
    });
  }
  const tied = config.tieWordEmbeddings;
  return {
    embedding,
    layers,
    finalNorm: dense('model.norm.weight'),
    lmHead: tied ? embedding : linear('lm_head.weight'),
    tied,
  };
}

/** Destroys every weight buffer once; a tied lm_head is the embedding and is not destroyed twice. */
export function destroyWeights(runtime: GpuRuntime, weights: ModelWeights): void {
  const { allocator } = runtime;
  allocator.destroyTensor(weights.embedding);
  if (!weights.tied) destroyLinear(runtime, weights.lmHead);
  allocator.destroyTensor(weights.finalNorm);
  for (const layer of weights.layers) {
    for (const tensor of Object.values(layer) as (LinearWeight | undefined)[]) {
      if (tensor) destroyLinear(runtime, tensor);
    }
  }
}
