/**
 * The memory check that runs before any weight download. It reads config.json and the
 * safetensors headers (two Range requests per file), estimates the GPU bytes of the model with
 * estimateModelMemory, and compares them with the adapter's buffer limits and a memory budget.
 * Browsers report no free-VRAM figure, so the budget is a user setting and the result is an
 * estimate, not a guarantee.
 */
import { DEFAULT_ANCHOR_PARAMS, type AnchorParams } from '../attention/types';
import { parseModelConfig, type ModelConfig } from '../model/config';
import { estimateModelMemory, fitContextLength, modelWeightBytes, type AdapterBufferLimits, type MemoryEstimate } from '../model/memory';
import { DEFAULT_MAX_CONTEXT } from '../model/model';
import type { KvDtype } from '../model/kvCache';
import type { WeightDType } from '../model/ops/kernel';
import { SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, parseSafetensorsHeader, parseSafetensorsIndex } from '../model/safetensors';
import { fetchJsonIfPresent, type ModelSource } from '../model/source';
import { expectedWeightShapes } from '../model/weights';

/** Default memory budget: a conservative share of a 6–8 GB consumer GPU, changeable in the UI. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 4 * 2 ** 30;

/** Inputs of the estimate besides the model: the budget and the prefill chunking. */
export interface FitSettings {
  budgetBytes: number;
  /** Rows per dense prefill chunk. */
  chunkSize: number;
  attention: 'dense' | 'anchor';
  anchorParams?: AnchorParams;
  /** 'q8' quantizes the linear weights to 8 bits at load; null or absent keeps them as stored. */
  quantize?: 'q8' | null;
}

export const DEFAULT_FIT_SETTINGS: FitSettings = { budgetBytes: DEFAULT_MEMORY_BUDGET_BYTES, chunkSize: 2048, attention: 'anchor' };

/** A source that can read part of a file without reading all of it. */
interface RangeReadable {
  fetchRange(path: string, start: number, end: number, signal?: AbortSignal): Promise<ArrayBuffer | undefined>;
}

function canReadRanges(source: ModelSource): source is ModelSource & RangeReadable {
  return typeof (source as Partial<RangeReadable>).fetchRange === 'function';
}

export interface WeightSummary {
  /** Stored bytes of the tensors the model uploads. */
  weightBytes: number;
  weightDtype: WeightDType;
  /** Source of the figure; the methods are listed most exact first. */
  method: 'safetensors headers' | 'index total_size' | 'config shapes';
  files: string[];
}

/** The result of the check, sent to the page as it is. */
export interface MemoryFitReport {
  modelName: string;
  architecture: string;
  maxPositionEmbeddings: number;
  weights: WeightSummary;
  limits: AdapterBufferLimits;
  budgetBytes: number;
  /** The context length asked for, or the model's default when none was. */
  contextLength: number;
  /** Whether the user pinned contextLength (then it is never shortened). */
  contextPinned: boolean;
  kvDtype: KvDtype;
  /** The estimate at contextLength. */
  estimate: MemoryEstimate;
  /** One sentence per part that does not fit, with needed and available bytes; empty when it fits. */
  problems: string[];
  /** Maximum context that fits (a multiple of 256, or max_position_embeddings when smaller); null when none does. */
  maxFittingContextLength: number | null;
  /** Context the engine loads with: contextLength when it fits, else the longest that fits unless pinned; null when the model cannot load. */
  chosenContextLength: number | null;
}

const TORCH_DTYPES: Record<string, WeightDType> = { bfloat16: 'bf16', float16: 'f16', float32: 'f32' };
const SAFETENSORS_DTYPES: Record<string, WeightDType> = { BF16: 'bf16', F16: 'f16', F32: 'f32' };

function toMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Reads one safetensors header with two Range requests; undefined when the source cannot. */
async function readHeader(source: ModelSource & RangeReadable, file: string, signal?: AbortSignal) {
  const prefix = await source.fetchRange(file, 0, 8, signal);
  if (!prefix) return undefined;
  const headerLength = Number(new DataView(prefix).getBigUint64(0, true));
  const json = await source.fetchRange(file, 8, 8 + headerLength, signal);
  if (!json) return undefined;
  const bytes = new Uint8Array(8 + headerLength);
  bytes.set(new Uint8Array(prefix), 0);
  bytes.set(new Uint8Array(json), 8);
  // The data size is unknown here, so the end of the last tensor is used as the file size.
  const dataEnd = Math.max(0, ...Object.values(JSON.parse(new TextDecoder().decode(json)) as Record<string, { data_offsets?: number[] }>).map((entry) => entry.data_offsets?.[1] ?? 0));
  return parseSafetensorsHeader(bytes, file, 8 + headerLength + dataEnd);
}

/**
 * Sums the stored bytes of the tensors the model uploads. Prefers the safetensors headers (exact,
 * and they give the dtype), then the index's metadata total_size, then the shapes config.json implies.
 */
export async function readWeightSummary(source: ModelSource, config: ModelConfig, signal?: AbortSignal): Promise<WeightSummary> {
  const torchDtype = TORCH_DTYPES[config.torchDtype ?? ''] ?? 'bf16';
  const indexJson = await fetchJsonIfPresent(source, SAFETENSORS_INDEX_FILE);
  const files = indexJson !== undefined ? parseSafetensorsIndex(indexJson).files : [SAFETENSORS_FILE];

  if (canReadRanges(source)) {
    const needed = expectedWeightShapes(config);
    let weightBytes = 0;
    let weightDtype: WeightDType | undefined;
    let complete = true;
    for (const file of files) {
      const header = await readHeader(source, file, signal);
      if (!header) {
        complete = false;
        break;
      }
      for (const info of header.tensors.values()) {
        if (!needed.has(info.name)) continue;
        weightBytes += info.dataOffsets[1] - info.dataOffsets[0];
        if (info.name.endsWith('self_attn.q_proj.weight')) weightDtype ??= SAFETENSORS_DTYPES[info.dtype];
      }
    }
    if (complete) return { weightBytes, weightDtype: weightDtype ?? torchDtype, method: 'safetensors headers', files };
  }

  const totalSize = (indexJson as { metadata?: { total_size?: unknown } } | undefined)?.metadata?.total_size;
  if (typeof totalSize === 'number' && Number.isInteger(totalSize) && totalSize > 0) {
    return { weightBytes: totalSize, weightDtype: torchDtype, method: 'index total_size', files };
  }
  return { weightBytes: modelWeightBytes(config, torchDtype), weightDtype: torchDtype, method: 'config shapes', files };
}

/** Lists, with needed and available bytes, each part of `estimate` that does not fit. */
export function fitProblems(config: ModelConfig, estimate: MemoryEstimate, limits: AdapterBufferLimits, budgetBytes: number, weightDtype: WeightDType): string[] {
  const problems: string[] = [];
  const bufferLimit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const embeddingRow = config.hiddenSize * (weightDtype === 'f32' ? 4 : 2);
  if (embeddingRow > bufferLimit) problems.push(`one embedding row needs ${embeddingRow} bytes in one buffer, but the adapter allows ${bufferLimit}`);
  const { label, bytes } = estimate.breakdown.largestBuffer;
  if (bytes > bufferLimit) {
    problems.push(`${label} needs one buffer of ${toMiB(bytes)}, but the adapter's buffer limit is ${toMiB(bufferLimit)} (maxBufferSize ${toMiB(limits.maxBufferSize)}, maxStorageBufferBindingSize ${toMiB(limits.maxStorageBufferBindingSize)})`);
  }
  if (estimate.total > budgetBytes) {
    problems.push(
      `it needs about ${toMiB(estimate.total)} (weights ${toMiB(estimate.weights)}, KV cache ${toMiB(estimate.kvCache)}, ` +
        `activations ${toMiB(estimate.activations)}), but the memory budget is ${toMiB(budgetBytes)}`,
    );
  }
  return problems;
}

/** Estimates the model at the requested context and finds the longest context that fits. */
export function planMemoryFit(
  modelName: string,
  config: ModelConfig,
  weights: WeightSummary,
  limits: AdapterBufferLimits,
  settings: FitSettings,
  request: { contextLength?: number; kvDtype?: KvDtype },
): MemoryFitReport {
  const kvDtype = request.kvDtype ?? 'f16';
  const contextLength = request.contextLength ?? Math.min(config.maxPositionEmbeddings, DEFAULT_MAX_CONTEXT);
  const options = {
    weightBytes: weights.weightBytes,
    weightDtype: weights.weightDtype,
    kvDtype,
    chunkSize: settings.chunkSize,
    attention: settings.attention,
    anchorParams: settings.anchorParams ?? DEFAULT_ANCHOR_PARAMS,
    quantize: settings.quantize ?? null,
  };
  const estimate = estimateModelMemory(config, { ...options, contextLength });
  const problems = fitProblems(config, estimate, limits, settings.budgetBytes, weights.weightDtype);
  const fit = fitContextLength(config, limits, settings.budgetBytes, options);
  const maxFittingContextLength = fit.contextLength;
  let chosenContextLength: number | null = null;
  if (problems.length === 0) chosenContextLength = contextLength;
  else if (request.contextLength === undefined && maxFittingContextLength !== null) chosenContextLength = Math.min(maxFittingContextLength, contextLength);
  return {
    modelName,
    architecture: config.architecture,
    maxPositionEmbeddings: config.maxPositionEmbeddings,
    weights,
    limits: { maxBufferSize: limits.maxBufferSize, maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize },
    budgetBytes: settings.budgetBytes,
    contextLength,
    contextPinned: request.contextLength !== undefined,
    kvDtype,
    estimate,
    problems,
    maxFittingContextLength,
    chosenContextLength,
  };
}

/**
 * Reads config.json (throwing the parser's message, which names an unsupported architecture and
 * the supported ones) and the weight headers, then plans the fit. Downloads no weights.
 */
export async function checkModelFit(
  source: ModelSource,
  limits: AdapterBufferLimits,
  settings: FitSettings,
  request: { contextLength?: number; kvDtype?: KvDtype },
  signal?: AbortSignal,
): Promise<{ config: ModelConfig; report: MemoryFitReport }> {
  const configJson = await fetchJsonIfPresent(source, 'config.json');
  if (configJson === undefined) throw new Error(`${source.name}: config.json not found`);
  const config = parseModelConfig(configJson);
  const weights = await readWeightSummary(source, config, signal);
  return { config, report: planMemoryFit(source.name, config, weights, limits, settings, request) };
}

/** Builds the message the page shows when the model cannot load with the requested settings. */
export function describeMisfit(report: MemoryFitReport): string {
  const head = `${report.modelName} does not fit at ${report.contextLength.toLocaleString('en-US')} tokens of context (estimate): ${report.problems.join('; ')}.`;
  if (report.maxFittingContextLength === null) {
    return `${head} No context length fits; raise the memory budget if this GPU has more memory, or choose a smaller model.`;
  }
  return `${head} A context of ${report.maxFittingContextLength.toLocaleString('en-US')} tokens fits; choose it or raise the memory budget.`;
}
