/**
 * The typed message protocol between the page and the inference worker: one discriminated
 * union per direction, keyed on `type`. Every request that can fail is answered with an
 * `error` message carrying the same `requestId` when it has one.
 */
import type { AttentionMode } from '../attention/types';
import type { ChatMessage } from '../tokenizer/chatTemplate';
import type { PrefillStats, PrefillStatsOptions } from './prefillStatsTypes';
import type { FitSettings, MemoryFitReport } from './memoryFit';
import type { BenchmarkRequest, BenchmarkResponse } from './benchmarkProtocol';

export type { FitSettings, MemoryFitReport } from './memoryFit';

/** Where the worker loads a model from. */
export type ModelRef =
  /** A random-weight test model served by the app itself under /models/<id>/. */
  | { kind: 'bundled'; id: string }
  /** A Hugging Face style repository: `${baseUrl}/${repoId}/resolve/${revision}/<file>`. */
  | { kind: 'hub'; repoId: string; revision: string; baseUrl: string; accessToken?: string; /** false keeps the files in memory only (no Cache API). */ cache?: boolean }
  /** Files the user opened (config.json, model.safetensors, tokenizer.json, tokenizer_config.json). */
  | { kind: 'files'; files: File[] };

export interface SamplingSettings {
  /** 0 selects greedy decoding. */
  temperature: number;
  /** 0 disables top-k filtering. */
  topK: number;
  /** 1 disables nucleus filtering. */
  topP: number;
  seed: number;
}

export interface GenerationSettings {
  attention: AttentionMode;
  /** Prompt tokens per prefill chunk. */
  chunkSize: number;
  sampling: SamplingSettings;
  maxNewTokens: number;
  /** Prefill statistics to collect; DEFAULT_PREFILL_STATS_OPTIONS when absent. */
  prefillStats?: PrefillStatsOptions;
}

/** The document, an optional system prompt and the chat turns that follow it. */
export interface Conversation {
  system: string;
  document: string;
  /** Alternating user and assistant turns, starting with the first question. */
  turns: ChatMessage[];
}

export type WorkerRequest =
  | { type: 'probe' }
  | { type: 'load'; model: ModelRef; contextLength?: number; kvDtype?: 'f16' | 'f32'; fit?: FitSettings }
  /** Reads config.json and the weight headers and responds with `fitReport`; downloads no weights. */
  | { type: 'checkFit'; requestId: number; model: ModelRef; contextLength?: number; kvDtype?: 'f16' | 'f32'; fit: FitSettings }
  | { type: 'countTokens'; requestId: number; conversation: Conversation }
  | { type: 'generate'; requestId: number; conversation: Conversation; settings: GenerationSettings }
  | { type: 'stop' }
  | { type: 'reset' }
  | { type: 'getStats' }
  | BenchmarkRequest;

export type LoadPhase = 'download' | 'upload' | 'compile';

export interface FileLoadProgress {
  file: string;
  loaded: number;
  /** Undefined when the server sends no Content-Length. */
  total?: number;
  fromCache: boolean;
  /** A retry in progress: what failed and when the next attempt starts. */
  note?: string;
}

export interface GpuSummary {
  adapterName: string;
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean };
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export interface LoadedModelInfo {
  name: string;
  architecture: string;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hiddenSize: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  /** Context length the KV cache was allocated for. */
  contextLength: number;
  kvDtype: 'f16' | 'f32';
  gpu: GpuSummary;
  loadMs: number;
}

export type StoppedBy = 'eos' | 'max-tokens' | 'context' | 'abort';

/** Statistics of one answer. Rates are tokens per second of wall time in the worker. */
export interface GenerationStats {
  promptTokens: number;
  /** Prompt tokens whose keys and values were already in the KV cache. */
  reusedTokens: number;
  /** Prompt tokens that went through prefill: promptTokens - reusedTokens. */
  prefillTokens: number;
  prefillMs: number;
  prefillTokensPerSecond: number;
  timeToFirstTokenMs: number;
  generatedTokens: number;
  decodeMs: number;
  decodeTokensPerSecond: number;
  stoppedBy: StoppedBy;
  attention: AttentionMode['kind'];
}

export type ErrorKind = 'webgpu-unavailable' | 'limit' | 'load' | 'generate' | 'too-long' | 'protocol';

export type WorkerResponse =
  | { type: 'probed'; gpu: GpuSummary }
  | { type: 'loadProgress'; phase: LoadPhase; file?: FileLoadProgress; message?: string }
  | { type: 'loaded'; model: LoadedModelInfo }
  /** The memory check of a `checkFit` request (with its requestId) or of a load; `error` when config.json is unusable. */
  | { type: 'fitReport'; requestId?: number; report?: MemoryFitReport; error?: string }
  /** A downloaded file could not be cached, with the storage figures; the load goes on. */
  | { type: 'cacheWarning'; file: string; message: string }
  | { type: 'tokenCount'; requestId: number; tokens: number; contextLength: number }
  | { type: 'prefillProgress'; requestId: number; done: number; total: number }
  | { type: 'token'; requestId: number; id: number; text: string }
  | { type: 'done'; requestId: number; text: string; stats: GenerationStats }
  | { type: 'reset' }
  | { type: 'stats'; cachedTokens: number; contextLength: number; last?: GenerationStats }
  /** Sent after `done` for every generate request: the prefill's time and, for AnchorAttention, its per-head statistics. */
  | { type: 'prefillStats'; stats: PrefillStats }
  | { type: 'error'; kind: ErrorKind; message: string; requestId?: number }
  | BenchmarkResponse;
