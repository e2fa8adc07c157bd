/**
 * GPU memory estimate of a loaded model from its config alone: weights, KV cache and the
 * activations the forward allocates. The activations are ForwardWorkspace (forward.ts), the
 * sampling buffers of model.ts and ops/sample.ts, and AnchorAttention's per-chunk temporaries
 * (attention/anchor.ts). Every buffer is counted as BufferAllocator counts it: rounded up to a
 * multiple of 4 bytes, at least 4. fitContextLength finds the longest context within a budget
 * and the adapter's buffer limits.
 */
import { BYTES_PER_ELEMENT, elementCount } from '../gpu/buffers';
import { DEFAULT_ANCHOR_PARAMS, groupSize, type AnchorParams } from '../attention/types';
import { anchorRegion } from '../attention/anchorPlan';
import { ANCHOR_SELECT_BLOCK } from '../attention/anchor';
import type { ModelConfig } from './config';
import { kvCacheBytes, type KvDtype } from './kvCache';
import type { WeightDType } from './ops/kernel';
import { DEFAULT_Q8_GROUP_SIZE, q8Layout, type Q8GroupSize } from './ops/quant';
import { SAMPLE_ITEMS_PER_THREAD, SAMPLE_WORKGROUP_SIZE } from './ops/sample';

/** Bytes of the sampling state buffer; STATE_BYTES in ops/sample.ts (the State struct of shaders/sample.wgsl). */
const SAMPLE_STATE_BYTES = 48;
/** Context lengths that fitContextLength tries are multiples of this. */
export const CONTEXT_LENGTH_STEP = 256;

export interface MemoryOptions {
  /** Sum of the stored bytes (safetensors, as stored) of the tensors the model uploads; see modelWeightBytes. */
  weightBytes: number;
  /** Storage dtype of the linear weights, which quantization replaces. */
  weightDtype: WeightDType;
  /** KV-cache capacity in tokens. */
  contextLength: number;
  kvDtype: KvDtype;
  /** Rows per dense prefill chunk; AnchorAttention prefill uses its group size G instead, as TransformerModel.prefill does. */
  chunkSize: number;
  /** 'q8' quantizes every linear weight but a tied lm_head, which stays the stored embedding table. */
  quantize?: 'q8' | null;
  q8GroupSize?: Q8GroupSize;
  attention?: 'dense' | 'anchor';
  /** Parameters of AnchorAttention prefill; DEFAULT_ANCHOR_PARAMS when omitted. */
  anchorParams?: AnchorParams;
}

export interface MemoryBreakdown {
  /** The weightBytes option: every weight as stored. */
  storedWeights: number;
  /** Linear weights replaced by q8: their count, stored bytes and q8 bytes (q and scales). */
  quantized: { matrices: number; storedBytes: number; q8Bytes: number };
  /** Keys or values of one layer, the largest KV buffer. */
  kvLayerBuffer: number;
  /** Rows of the activation workspace: the largest prefill chunk. */
  workspaceRows: number;
  /** ForwardWorkspace at workspaceRows rows. */
  workspace: number;
  /** Sampled token, its readback buffer and the sampling scratch that the first sampled token allocates. */
  sampling: number;
  /** Candidate keys C of the largest AnchorAttention group at this context (0 when no group is sparse). */
  anchorMaxCandidates: number;
  /** AnchorAttention temporaries of one chunk: every layer's, because all live until the chunk's batch completes. */
  anchorTemporaries: number;
  /** Largest single buffer to bind, with what it holds, for the adapter's binding limit. */
  largestBuffer: { label: string; bytes: number };
}

export interface MemoryEstimate {
  weights: number;
  kvCache: number;
  /** workspace + sampling + anchorTemporaries: the peak during a prefill chunk. */
  activations: number;
  total: number;
  breakdown: MemoryBreakdown;
}

/** Size of a buffer holding `bytes`, as BufferAllocator.createBuffer rounds it. */
function bufferBytes(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

/** Buffer size of an f32 or u32 tensor of `shape`. */
function words(...shape: number[]): number {
  return bufferBytes(elementCount(shape) * 4);
}

/** Lists the linear weights, [out, in] each, that q8 replaces: seven per layer and an untied lm_head. */
export function linearWeightShapes(config: ModelConfig): { name: string; shape: [number, number] }[] {
  const { hiddenSize: hidden, numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize: I } = config;
  const shapes: { name: string; shape: [number, number] }[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    shapes.push(
      { name: `layers.${layer}.q_proj`, shape: [H * D, hidden] },
      { name: `layers.${layer}.k_proj`, shape: [Hkv * D, hidden] },
      { name: `layers.${layer}.v_proj`, shape: [Hkv * D, hidden] },
      { name: `layers.${layer}.o_proj`, shape: [hidden, H * D] },
      { name: `layers.${layer}.gate_proj`, shape: [I, hidden] },
      { name: `layers.${layer}.up_proj`, shape: [I, hidden] },
      { name: `layers.${layer}.down_proj`, shape: [hidden, I] },
    );
  }
  if (!config.tieWordEmbeddings) shapes.push({ name: 'lm_head', shape: [config.vocabSize, hidden] });
  return shapes;
}

/** Stored bytes of every tensor the model uploads when all are in `dtype` (norms and biases included). */
export function modelWeightBytes(config: ModelConfig, dtype: WeightDType): number {
  const { hiddenSize: hidden, numHeads: H, numKvHeads: Hkv, headDim: D } = config;
  let elements = config.vocabSize * hidden + hidden; // embedding and final norm
  for (const { shape } of linearWeightShapes(config)) elements += shape[0] * shape[1];
  const perLayerVectors =
    2 * hidden + // input and post-attention norms
    (config.attentionBias ? H * D + 2 * Hkv * D : 0) +
    (config.outputBias ? hidden : 0) +
    (config.qkNorm ? 2 * D : 0);
  elements += config.numLayers * perLayerVectors;
  return elements * BYTES_PER_ELEMENT[dtype];
}

/** Candidate keys C of the largest sparse AnchorAttention group in a prompt of up to `contextLength` tokens. */
export function anchorMaxCandidates(contextLength: number, params: AnchorParams): number {
  const G = groupSize(params);
  // A sparse group is a whole group of the prompt, and not the last one with denseLastGroup (anchorChunkPlan).
  const lastGroup = Math.floor(contextLength / G) - 1 - (params.denseLastGroup ? 1 : 0);
  if (lastGroup < 0) return -1;
  const region = anchorRegion(lastGroup, params);
  return region.candidateEnd - region.candidateStart;
}

/** Bytes of one layer's temporaries in encodeAnchorPrefill for a group with C candidate keys. */
function anchorLayerBytes(config: ModelConfig, params: AnchorParams, C: number): number {
  const { numHeads: H, headDim: D } = config;
  const G = groupSize(params);
  let bytes = words(H, G, 2) + words(H, G, D) + words(H, C) + words(H) + words(H, C); // stats, acc, indices, counts, scores
  if (C > 0) {
    bytes += words(H, params.step, D) + words(H, params.step); // mean query and mean anchor per sub-block
    bytes += words(H, C) + words(H, Math.ceil(C / ANCHOR_SELECT_BLOCK)); // flags and per-block counts
  }
  return bytes;
}

/** ForwardWorkspace's buffers at `rows` rows, in its allocation order. */
function workspaceBuffers(config: ModelConfig, rows: number): { label: string; bytes: number }[] {
  const { hiddenSize: hidden, numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize: I, vocabSize: V } = config;
  return [
    { label: 'tokens', bytes: words(rows) },
    { label: 'residual a', bytes: words(rows, hidden) },
    { label: 'residual b', bytes: words(rows, hidden) },
    { label: 'normed', bytes: words(rows, hidden) },
    { label: 'q', bytes: words(rows, H, D) },
    { label: 'k', bytes: words(rows, Hkv, D) },
    { label: 'v', bytes: words(rows, Hkv, D) },
    { label: 'attention', bytes: words(rows, H, D) },
    { label: 'projected', bytes: words(rows, hidden) },
    { label: 'gate', bytes: words(rows, I) },
    { label: 'up', bytes: words(rows, I) },
    { label: 'activated', bytes: words(rows, I) },
    { label: 'last hidden', bytes: words(hidden) },
    { label: 'last normed', bytes: words(hidden) },
    { label: 'logits', bytes: words(V) },
    { label: 'inv_freq', bytes: words(D / 2) },
  ];
}

function checkOptions(op: string, config: ModelConfig, options: MemoryOptions): void {
  const integers: [string, number, number][] = [
    ['contextLength', options.contextLength, 1],
    ['chunkSize', options.chunkSize, 1],
    ['weightBytes', options.weightBytes, 0],
  ];
  for (const [name, value, min] of integers) {
    if (!Number.isInteger(value) || value < min) throw new Error(`${op}: ${name} must be an integer >= ${min}, got ${value}`);
  }
  if (options.quantize === 'q8') {
    const stored = linearWeightShapes(config).reduce((sum, { shape }) => sum + shape[0] * shape[1], 0) * BYTES_PER_ELEMENT[options.weightDtype];
    if (stored > options.weightBytes) {
      throw new Error(`${op}: weightBytes is ${options.weightBytes}, less than the ${stored} bytes of the linear weights alone in ${options.weightDtype}`);
    }
  }
}

/**
 * Estimates the GPU bytes of `config` loaded with these options and running prefill chunks:
 * what runtime.allocator.bytesAllocated grows by through TransformerModel.load, a prefill and
 * the first sampled token (the anchor temporaries only while a sparse chunk runs).
 */
export function estimateModelMemory(config: ModelConfig, options: MemoryOptions): MemoryEstimate {
  checkOptions('estimateModelMemory', config, options);
  const { contextLength, kvDtype, weightDtype } = options;
  const groupSizeQ8 = options.q8GroupSize ?? DEFAULT_Q8_GROUP_SIZE;
  const anchorParams = options.anchorParams ?? DEFAULT_ANCHOR_PARAMS;
  const anchor = options.attention === 'anchor';
  const largest: { label: string; bytes: number } = { label: 'none', bytes: 0 };
  const consider = (label: string, bytes: number) => {
    if (bytes > largest.bytes) Object.assign(largest, { label, bytes });
  };

  // Weights: as stored, less each quantized matrix's stored bytes, plus its q8 bytes.
  const quantized = { matrices: 0, storedBytes: 0, q8Bytes: 0 };
  for (const { name, shape } of linearWeightShapes(config)) {
    const stored = shape[0] * shape[1] * BYTES_PER_ELEMENT[weightDtype];
    // The lm_head is row-split, so its largest buffer is one part; the embedding check below covers its rows.
    if (options.quantize === 'q8') {
      const q8 = q8Layout(shape[0], shape[1], groupSizeQ8);
      quantized.matrices++;
      quantized.storedBytes += stored;
      quantized.q8Bytes += q8.byteLength;
      if (name !== 'lm_head') consider(`${name} q8`, shape[0] * q8.wordsPerRow * 4);
    } else if (name !== 'lm_head') {
      consider(name, bufferBytes(stored));
    }
  }
  const weights = options.weightBytes - quantized.storedBytes + quantized.q8Bytes;

  const kvLayerBuffer = kvCacheBytes(config, contextLength, kvDtype) / (2 * config.numLayers);
  consider('KV cache keys of one layer', kvLayerBuffer);
  const kvCache = kvCacheBytes(config, contextLength, kvDtype);

  const chunkRows = anchor ? groupSize(anchorParams) : options.chunkSize;
  const workspaceRows = Math.min(chunkRows, contextLength);
  const buffers = workspaceBuffers(config, workspaceRows);
  buffers.forEach(({ label, bytes }) => consider(`workspace ${label}`, bytes));
  const workspace = buffers.reduce((sum, { bytes }) => sum + bytes, 0);

  const partialCount = Math.ceil(config.vocabSize / (SAMPLE_WORKGROUP_SIZE * SAMPLE_ITEMS_PER_THREAD));
  const sampling = words(1) + words(1) + bufferBytes(SAMPLE_STATE_BYTES) + bufferBytes(partialCount * 8);

  let anchorTemporaries = 0;
  let maxCandidates = 0;
  if (anchor) {
    const C = anchorMaxCandidates(contextLength, anchorParams);
    if (C >= 0) {
      maxCandidates = C;
      anchorTemporaries = config.numLayers * anchorLayerBytes(config, anchorParams, C);
      consider('AnchorAttention acc state [H, G, D]', words(config.numHeads, groupSize(anchorParams), config.headDim));
      consider('AnchorAttention indices [H, C]', words(config.numHeads, C));
    }
  }

  const activations = workspace + sampling + anchorTemporaries;
  return {
    weights,
    kvCache,
    activations,
    total: weights + kvCache + activations,
    breakdown: {
      storedWeights: options.weightBytes,
      quantized,
      kvLayerBuffer,
      workspaceRows,
      workspace,
      sampling,
      anchorMaxCandidates: maxCandidates,
      anchorTemporaries,
      largestBuffer: largest,
    },
  };
}

/** The two adapter limits that bound a single buffer. */
export interface AdapterBufferLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export type FitResult = { contextLength: number; estimate: MemoryEstimate } | { contextLength: null; reason: string };

function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;
}

/** Returns why `estimate` does not fit, or null when it fits. */
function misfit(config: ModelConfig, estimate: MemoryEstimate, limits: AdapterBufferLimits, budgetBytes: number, weightDtype: WeightDType): string | null {
  const bufferLimit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  // One row of the embedding must fit a part of the row-split table.
  const embeddingRow = config.hiddenSize * BYTES_PER_ELEMENT[weightDtype];
  if (embeddingRow > bufferLimit) return `one embedding row is ${embeddingRow} bytes, more than the ${bufferLimit}-byte buffer limit`;
  const { label, bytes } = estimate.breakdown.largestBuffer;
  if (bytes > bufferLimit) return `${label} needs one buffer of ${formatMiB(bytes)}, more than the adapter's limit of ${formatMiB(bufferLimit)}`;
  if (estimate.total > budgetBytes) {
    return (
      `it needs ${formatMiB(estimate.total)} (weights ${formatMiB(estimate.weights)}, KV cache ${formatMiB(estimate.kvCache)}, ` +
      `activations ${formatMiB(estimate.activations)}), more than the budget of ${formatMiB(budgetBytes)}`
    );
  }
  return null;
}

/**
 * Finds the longest context length whose estimate fits `budgetBytes` and whose every buffer
 * fits the adapter's limits. Lengths are multiples of 256 up to max_position_embeddings, or
 * max_position_embeddings itself when it is below 256. When none fits, returns the reason,
 * with its numbers, why the shortest does not.
 */
export function fitContextLength(
  config: ModelConfig,
  adapterLimits: AdapterBufferLimits,
  budgetBytes: number,
  options: Omit<MemoryOptions, 'contextLength'>,
): FitResult {
  const top = config.maxPositionEmbeddings;
  const candidates: number[] = [];
  for (let length = Math.floor(top / CONTEXT_LENGTH_STEP) * CONTEXT_LENGTH_STEP; length >= CONTEXT_LENGTH_STEP; length -= CONTEXT_LENGTH_STEP) {
    candidates.push(length);
  }
  if (candidates.length === 0) candidates.push(top);

  // Every part of the estimate grows with the context length, so the first fit from the top is the longest.
  let reason = '';
  for (const contextLength of candidates) {
    const estimate = estimateModelMemory(config, { ...options, contextLength });
    const problem = misfit(config, estimate, adapterLimits, budgetBytes, options.weightDtype);
    if (problem === null) return { contextLength, estimate };
    reason = `No context length fits: at ${contextLength} tokens, ${problem}`;
  }
  return { contextLength: null, reason };
}
