/**
 * A transformer loaded onto the GPU with its KV cache: chunked prefill that reuses the
 * cached prefix of a prompt, and a decode loop that samples on the GPU and reads back one
 * 4-byte token id per step.
 */
import { readF32, type Tensor } from '../gpu/buffers';
import { ComputeBatch, type GpuRuntime } from '../gpu/dispatch';
import { groupSize, type AttentionMode } from '../attention/types';
import { Random } from '../util/random';
import { parseModelConfig, type ModelConfig } from './config';
import { encodeChunk, ForwardWorkspace, type ChunkArgs, type LayerAnchorResult } from './forward';
import { KvCache, type KvDtype } from './kvCache';
import { encodeSample } from './ops/sample';
import { DEFAULT_Q8_GROUP_SIZE } from './ops/quant';
import { fetchJsonIfPresent, type ModelSource } from './source';
import { destroyWeights, uploadWeights, type LoadProgress, type ModelWeights } from './weights';

export type { LoadProgress } from './weights';

/** Context length used when the caller gives none and the model's own is longer. */
export const DEFAULT_MAX_CONTEXT = 32768;

export interface LoadOptions {
  /** KV-cache capacity in tokens; defaults to max_position_embeddings, at most DEFAULT_MAX_CONTEXT. */
  contextLength?: number;
  kvDtype?: KvDtype;
  /** 'q8' quantizes the linear weights on the GPU at load (about 0.56 of bf16's bytes); null keeps them as stored. */
  quantize?: 'q8' | null;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

export interface PrefillOptions {
  /** Rows per chunk; chunk boundaries sit at multiples of it in absolute positions. AnchorAttention uses its group size G instead. */
  chunkSize: number;
  attention: AttentionMode;
  onChunk?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Labels each layer's attention pass for the runtime's profiler. */
  profile?: boolean;
  /**
   * Receives each sparse chunk's AnchorAttention selections (one per layer) after the chunk
   * has run, so that their GPU buffers can be read. They are destroyed when the promise settles.
   */
  onAnchorChunk?: (start: number, results: LayerAnchorResult[]) => Promise<void> | void;
  /** Receives each layer's queries while a chunk is recorded (see ChunkArgs.onQuery). */
  onQuery?: ChunkArgs['onQuery'];
  /** Receives each layer's post-RoPE q and the chunk's k and v while a chunk is recorded (see ChunkArgs.onQkv). */
  onQkv?: ChunkArgs['onQkv'];
  /** Awaited after each chunk's batch has completed, so that buffers copied by onQkv can be read back. */
  onChunkComplete?: (start: number, rows: number) => Promise<void> | void;
}

export interface PrefillResult {
  /** Prompt tokens whose cached keys and values were reused. */
  reusedTokens: number;
  /** Prompt tokens run through the model. */
  prefillTokens: number;
  prefillMs: number;
}

export interface SamplingOptions {
  /** 0 picks the argmax (greedy). */
  temperature: number;
  /** Keep the k most likely tokens; 0 keeps all. */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches topP; 1 keeps all. */
  topP: number;
  seed: number;
}

export interface GenerateOptions {
  maxNewTokens: number;
  sampling: SamplingOptions;
  /** Extra end-of-sequence ids besides those of config.json and generation_config.json. */
  stopTokenIds?: number[];
  chunkSize: number;
  attention: AttentionMode;
  onToken: (id: number) => void;
  onPrefillProgress?: (done: number, total: number) => void;
  /** Statistics hooks passed on to prefill. */
  prefillHooks?: Pick<PrefillOptions, 'onQuery' | 'onAnchorChunk'>;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** Generated token ids, the stop token included when one ended the generation. */
  tokens: number[];
  reusedTokens: number;
  prefillTokens: number;
  prefillMs: number;
  timeToFirstTokenMs: number;
  decodeMs: number;
  /** Tokens after the first one per second of decode time; 0 when only one token was generated. */
  decodeTokensPerSecond: number;
  stoppedBy: 'eos' | 'length' | 'abort';
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true && (error === signal.reason || (error instanceof DOMException && error.name === 'AbortError'));
}

/** GPU bytes the model allocated, measured with runtime.allocator.bytesAllocated. */
export interface ModelMemory {
  weights: number;
  kvCache: number;
  /** Activation workspace, which grows with the largest chunk run so far. */
  workspace: number;
}

export class TransformerModel {
  private workspace?: ForwardWorkspace;
  private workspaceBytes = 0;
  private readonly sampleTensor: Tensor;
  private readonly readback: GPUBuffer;
  private disposed = false;

  private constructor(
    readonly runtime: GpuRuntime,
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    readonly cache: KvCache,
    private readonly weightBytes: number,
    private readonly cacheBytes: number,
  ) {
    this.sampleTensor = runtime.allocator.createTensor('sampled token', [1], 'u32');
    this.readback = runtime.allocator.createBuffer('sampled token readback', 4, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
  }

  /** Reads config.json and generation_config.json, uploads the weights and allocates the KV cache. */
  static async load(runtime: GpuRuntime, source: ModelSource, options: LoadOptions = {}): Promise<TransformerModel> {
    const configJson = await fetchJsonIfPresent(source, 'config.json');
    if (configJson === undefined) throw new Error(`${source.name}: config.json not found`);
    const generationJson = await fetchJsonIfPresent(source, 'generation_config.json');
    const config = parseModelConfig(configJson, generationJson);
    const contextLength = options.contextLength ?? Math.min(config.maxPositionEmbeddings, DEFAULT_MAX_CONTEXT);
    if (!Number.isInteger(contextLength) || contextLength < 1) {
      throw new Error(`${source.name}: contextLength must be a positive integer, got ${contextLength}`);
    }
    const allocator = runtime.allocator;
    const beforeWeights = allocator.bytesAllocated;
    const weights = await uploadWeights(runtime, source, config, {
      onProgress: options.onProgress,
      signal: options.signal,
      quantize: options.quantize === 'q8' ? { groupSize: DEFAULT_Q8_GROUP_SIZE } : null,
    });
    const beforeCache = allocator.bytesAllocated;
    let cache: KvCache;
    try {
      cache = new KvCache(runtime, config, contextLength, options.kvDtype ?? 'f16');
    } catch (error) {
      destroyWeights(runtime, weights);
      throw error;
    }
    return new TransformerModel(runtime, config, weights, cache, beforeCache - beforeWeights, allocator.bytesAllocated - beforeCache);
  }

  /** GPU memory in use by this model, for checking memory estimates. */
  get memory(): ModelMemory {
    return { weights: this.weightBytes, kvCache: this.cacheBytes, workspace: this.workspaceBytes };
  }

  get contextLength(): number {
    return this.cache.capacity;
  }

  /** Token ids whose keys and values the cache holds. */
  get cachedTokens(): readonly number[] {
    return this.cache.tokens;
  }

  private workspaceFor(rows: number): ForwardWorkspace {
    if (!this.workspace || this.workspace.maxRows < rows) {
      this.workspace?.dispose();
      this.workspace = undefined;
      this.workspaceBytes = 0;
      const before = this.runtime.allocator.bytesAllocated;
      this.workspace = new ForwardWorkspace(this.runtime, this.config, rows);
      this.workspaceBytes = this.runtime.allocator.bytesAllocated - before;
    }
    return this.workspace;
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error('TransformerModel: the model was disposed');
  }

  /**
   * Runs `tokens` (the whole prompt) through the model, reusing the longest cached prefix and
   * always recomputing at least the last token so that its logits are fresh. Leaves the last
   * token's logits on the GPU (see readLogits). On abort the cache keeps the finished chunks
   * and the abort reason is thrown.
   */
  async prefill(tokens: readonly number[], options: PrefillOptions): Promise<PrefillResult> {
    this.checkUsable();
    const began = performance.now();
    const { attention, onChunk, signal, profile } = options;
    const chunkSize = attention.kind === 'anchor' ? groupSize(attention.params) : options.chunkSize;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`prefill: chunkSize must be a positive integer, got ${chunkSize}`);
    if (tokens.length === 0) throw new Error('prefill: the prompt is empty');
    if (tokens.length > this.contextLength) {
      throw new Error(`prefill: the prompt has ${tokens.length} tokens, more than the context length of ${this.contextLength}`);
    }
    const vocab = this.config.vocabSize;
    const invalid = tokens.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
    if (invalid >= 0) throw new Error(`prefill: token ${tokens[invalid]} at index ${invalid} is outside the vocabulary of ${vocab}`);

    const reused = Math.min(this.cache.commonPrefixLength(tokens), tokens.length - 1);
    this.cache.truncate(reused);
    const workspace = this.workspaceFor(Math.min(chunkSize, tokens.length - reused));
    const total = tokens.length - reused;
    let position = reused;
    while (position < tokens.length) {
      signal?.throwIfAborted();
      // Chunks end at multiples of chunkSize, so the first one after a reused prefix may be short.
      const end = Math.min(tokens.length, (Math.floor(position / chunkSize) + 1) * chunkSize);
      const chunk = tokens.slice(position, end);
      this.runtime.device.queue.writeBuffer(workspace.tokens.buffer, 0, new Uint32Array(chunk));
      const batch = new ComputeBatch(this.runtime, `prefill ${position}..${end - 1}`);
      const anchorResults = encodeChunk(batch, {
        weights: this.weights,
        cache: this.cache,
        workspace,
        start: position,
        rows: chunk.length,
        attention: { kind: 'prefill', mode: attention, totalTokens: tokens.length },
        profile,
        onQuery: options.onQuery,
        onQkv: options.onQkv,
      });
      try {
        await batch.submit();
        this.cache.append(chunk);
        if (anchorResults.length > 0) await options.onAnchorChunk?.(position, anchorResults);
        await options.onChunkComplete?.(position, chunk.length);
      } finally {
        anchorResults.forEach(({ result }) => result.dispose());
      }
      position = end;
      onChunk?.(position - reused, total);
    }
    return { reusedTokens: reused, prefillTokens: total, prefillMs: performance.now() - began };
  }

  /** Reads the logits [vocab] of the last token run (after prefill or a decode step). */
  async readLogits(): Promise<Float32Array> {
    this.checkUsable();
    if (!this.workspace) throw new Error('readLogits: nothing has run yet');
    return readF32(this.runtime.device, this.workspace.logits);
  }

  /** Samples from the current logits on the GPU and reads back the token id. */
  private async sample(batch: ComputeBatch, sampling: SamplingOptions, random: Random): Promise<number> {
    const logits = this.workspace!.logits;
    encodeSample(batch, {
      logits: { ...logits, shape: [this.config.vocabSize] },
      out: this.sampleTensor,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      uniform: random.next(),
    });
    batch.encoder.copyBufferToBuffer(this.sampleTensor.buffer, 0, this.readback, 0, 4);
    await batch.submit();
    await this.readback.mapAsync(GPUMapMode.READ);
    const id = new Uint32Array(this.readback.getMappedRange())[0];
    this.readback.unmap();
    return id;
  }

  /**
   * Prefills the prompt (reusing the cached prefix), then generates up to maxNewTokens tokens,
   * calling onToken for each. Stops at an end-of-sequence id, at maxNewTokens or when the
   * context is full ('length'), or on abort. The cache then contains the prompt and every
   * generated token but the last.
   */
  async generate(promptTokens: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
    this.checkUsable();
    const began = performance.now();
    const { maxNewTokens, sampling, signal, onToken } = options;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new Error(`generate: maxNewTokens must be a positive integer, got ${maxNewTokens}`);
    const stopIds = new Set([...this.config.eosTokenIds, ...(options.stopTokenIds ?? [])]);
    const random = new Random(sampling.seed);
    const result: GenerateResult = {
      tokens: [],
      reusedTokens: 0,
      prefillTokens: 0,
      prefillMs: 0,
      timeToFirstTokenMs: 0,
      decodeMs: 0,
      decodeTokensPerSecond: 0,
      stoppedBy: 'length',
    };

    let decodeBegan: number | undefined;
    try {
      const prefill = await this.prefill(promptTokens, {
        chunkSize: options.chunkSize,
        attention: options.attention,
        onChunk: options.onPrefillProgress,
        ...options.prefillHooks,
        signal,
      });
      Object.assign(result, prefill);
      let token = await this.sample(new ComputeBatch(this.runtime, 'sample'), sampling, random);
      result.timeToFirstTokenMs = performance.now() - began;
      decodeBegan = performance.now();
      const workspace = this.workspace!;
      for (;;) {
        result.tokens.push(token);
        onToken(token);
        if (stopIds.has(token)) {
          result.stoppedBy = 'eos';
          break;
        }
        if (result.tokens.length >= maxNewTokens || this.cache.length >= this.contextLength) {
          result.stoppedBy = 'length';
          break;
        }
        signal?.throwIfAborted();
        const position = this.cache.length;
        this.runtime.device.queue.writeBuffer(workspace.tokens.buffer, 0, new Uint32Array([token]));
        const batch = new ComputeBatch(this.runtime, `decode ${position}`);
        encodeChunk(batch, { weights: this.weights, cache: this.cache, workspace, start: position, rows: 1, attention: { kind: 'decode' } });
        const next = await this.sample(batch, sampling, random);
        this.cache.append([token]);
        token = next;
      }
    } catch (error) {
      if (!isAbort(error, signal)) throw error;
      result.stoppedBy = 'abort';
    }
    if (decodeBegan !== undefined) result.decodeMs = performance.now() - decodeBegan;
    if (result.tokens.length > 1 && result.decodeMs > 0) result.decodeTokensPerSecond = ((result.tokens.length - 1) / result.decodeMs) * 1000;
    return result;
  }

  /** Forgets the cached tokens, so the next prompt is prefilled from the start. */
  resetCache(): void {
    this.cache.truncate(0);
  }

  /** Frees every GPU buffer of the model: weights, KV cache, workspace and readback. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.workspace?.dispose();
    this.workspace = undefined;
    this.cache.dispose();
    destroyWeights(this.runtime, this.weights);
    this.runtime.allocator.destroyTensor(this.sampleTensor);
    this.runtime.allocator.destroyBuffer(this.readback);
  }
}
