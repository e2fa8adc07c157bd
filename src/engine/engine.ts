/**
 * The worker-side engine: it owns the GPU device, the model and the tokenizer, and turns
 * protocol requests into model calls and response messages. Requests that touch the model run
 * one at a time in arrival order, while `stop` and `getStats` run at once.
 */
import type { GpuContext } from '../gpu/device';
import { createRuntime, type GpuRuntime } from '../gpu/dispatch';
import { GpuLimitError, WebGpuUnavailableError } from '../gpu/errors';
import { TransformerModel, type GenerateResult } from '../model/model';
import type { FileProgress, ModelSource } from '../model/source';
import { TextTokenizer } from '../tokenizer/tokenizer';
import { bundledModelSource, hubModelSource, type DownloadFileProgress } from './hub';
import { LocalFilesModelSource } from './localSource';
import { DEFAULT_FIT_SETTINGS, checkModelFit, describeMisfit, type FitSettings } from './memoryFit';
import { describeQuotaError, storageFigures } from './storage';
import { probeGpu, summarizeGpu } from './probe';
import { BenchmarkRequests } from './benchmarkRequests';
import { PrefillStatsTracker } from './prefillStatsTracker';
import type {
  Conversation,
  ErrorKind,
  GenerationSettings,
  GenerationStats,
  LoadedModelInfo,
  ModelRef,
  StoppedBy,
  WorkerRequest,
  WorkerResponse,
} from './protocol';

/** Minimum time between two progress messages of one file, so a fast download does not flood the page. */
const PROGRESS_INTERVAL_MS = 100;

export interface EngineOptions {
  /** The WebGPU entry point; the worker passes navigator.gpu. */
  gpu: GPU | undefined;
  /** Origin of the app, under which bundled models live at /models/<name>/. */
  origin: string;
}

/** An Error with the protocol kind the page uses to choose how to show it. */
export class EngineError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface LoadedModel {
  model: TransformerModel;
  tokenizer: TextTokenizer;
  info: LoadedModelInfo;
  stopTokenIds: number[];
}

export class Engine {
  private context: GpuContext | undefined;
  private runtime: GpuRuntime | undefined;
  private loaded: LoadedModel | undefined;
  private generation: AbortController | undefined;
  private lastStats: GenerationStats | undefined;
  private readonly prefillStats = new PrefillStatsTracker();
  private queue: Promise<void> = Promise.resolve();
  private readonly benchmarks = new BenchmarkRequests((message) => this.post(message));

  constructor(
    private readonly post: (message: WorkerResponse) => void,
    private readonly options: EngineOptions,
  ) {}

  /** Handles one request; failures are posted as `error` messages and never thrown. */
  handle(request: WorkerRequest): Promise<void> {
    switch (request.type) {
      case 'stop':
        this.generation?.abort();
        return Promise.resolve();
      case 'getStats':
        this.post({
          type: 'stats',
          cachedTokens: this.loaded?.model.cachedTokens.length ?? 0,
          contextLength: this.loaded?.model.contextLength ?? 0,
          last: this.lastStats,
        });
        return Promise.resolve();
      case 'countTokens':
        return this.guard('load', request.requestId, async () => this.countTokens(request.requestId, request.conversation));
      case 'probe':
        return this.enqueue('webgpu-unavailable', undefined, () => this.probe());
      case 'load':
        return this.enqueue('load', undefined, () => this.load(request.model, request.contextLength, request.kvDtype, request.fit));
      case 'checkFit':
        return this.enqueue('load', undefined, () => this.checkFit(request.requestId, request.model, request.contextLength, request.kvDtype, request.fit));
      case 'generate':
        return this.enqueue('generate', request.requestId, () => this.generate(request.requestId, request.conversation, request.settings));
      case 'reset':
        this.generation?.abort();
        return this.enqueue('generate', undefined, async () => this.reset());
      case 'captureQkv':
      case 'runNeedle':
      case 'computeCurves':
        return this.enqueue('generate', request.requestId, () => this.benchmarks.handle(request, () => this.requireModel()));
      case 'stopBenchmark':
        this.benchmarks.stop();
        return Promise.resolve();
      default: {
        const unknown = request as { type?: unknown };
        this.post({ type: 'error', kind: 'protocol', message: `Unknown request type ${JSON.stringify(unknown.type)}` });
        return Promise.resolve();
      }
    }
  }

  private enqueue(kind: ErrorKind, requestId: number | undefined, work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(() => this.guard(kind, requestId, work));
    this.queue = next;
    return next;
  }

  private async guard(kind: ErrorKind, requestId: number | undefined, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.post({ type: 'error', kind: errorKind(error, kind), message: errorMessage(error), requestId });
    }
  }

  private async ensureGpu(): Promise<GpuRuntime> {
    if (this.runtime) return this.runtime;
    this.context = await probeGpu(this.options.gpu, (error) => {
      this.post({ type: 'error', kind: 'generate', message: error.message });
    });
    this.context.lost.then((lost) => {
      this.runtime = undefined;
      this.context = undefined;
      this.loaded = undefined;
      this.post({ type: 'error', kind: 'load', message: lost.message });
    });
    this.runtime = createRuntime(this.context, { profile: false });
    return this.runtime;
  }

  private async probe(): Promise<void> {
    await this.ensureGpu();
    this.post({ type: 'probed', gpu: summarizeGpu(this.context!) });
  }

  private modelSource(ref: ModelRef): ModelSource {
    switch (ref.kind) {
      case 'bundled':
        return bundledModelSource(ref.id, this.options.origin);
      case 'hub':
        return hubModelSource(ref.repoId, {
          baseUrl: ref.baseUrl,
          revision: ref.revision,
          accessToken: ref.accessToken,
          cache: ref.cache,
          onCacheError: (file) => {
            void storageFigures().then((figures) => this.post({ type: 'cacheWarning', file, message: describeQuotaError(file, ref.repoId, figures) }));
          },
        });
      case 'files':
        return new LocalFilesModelSource(ref.files);
    }
  }

  /** Runs a checkFit request. An unusable config.json becomes the report's error, not a banner. */
  private async checkFit(requestId: number, ref: ModelRef, contextLength: number | undefined, kvDtype: 'f16' | 'f32' | undefined, fit: FitSettings): Promise<void> {
    await this.ensureGpu();
    try {
      const { report } = await checkModelFit(await this.completeSource(ref), this.context!.limits, fit, { contextLength, kvDtype });
      this.post({ type: 'fitReport', requestId, report });
    } catch (error) {
      this.post({ type: 'fitReport', requestId, error: errorMessage(error) });
    }
  }

  /** Returns the source of `ref`, after checking that opened local files form a whole model. */
  private async completeSource(ref: ModelRef): Promise<ModelSource> {
    const source = this.modelSource(ref);
    if (source instanceof LocalFilesModelSource) await source.checkComplete();
    return source;
  }

  private async load(ref: ModelRef, requestedContext: number | undefined, kvDtype: 'f16' | 'f32' | undefined, fit = DEFAULT_FIT_SETTINGS): Promise<void> {
    const runtime = await this.ensureGpu();
    this.unload();
    const started = performance.now();
    const plainSource = await this.completeSource(ref);
    // The memory check reads config.json and the weight headers only, so a model that cannot fit fails before any weight download.
    const { report } = await checkModelFit(plainSource, this.context!.limits, fit, { contextLength: requestedContext, kvDtype });
    this.post({ type: 'fitReport', report });
    if (report.chosenContextLength === null) throw new EngineError('load', describeMisfit(report));
    const contextLength = report.chosenContextLength;
    const source = withProgress(plainSource, (file) => this.post({ type: 'loadProgress', phase: 'download', file }));

    const tokenizer = await TextTokenizer.load(source);
    try {
      const model = await TransformerModel.load(runtime, source, {
        contextLength,
        kvDtype,
        quantize: fit.quantize ?? null,
        onProgress: (progress) => {
          if (progress.stage === 'upload') {
            this.post({
              type: 'loadProgress',
              phase: 'upload',
              message: `Uploading ${progress.file}: ${progress.tensorsDone} of ${progress.tensorCount} tensors`,
            });
          }
        },
      });
      this.post({ type: 'loadProgress', phase: 'compile' });
      await warmUp(model);
      const config = model.config;
      const info: LoadedModelInfo = {
        name: source.name,
        architecture: config.architecture,
        layers: config.numLayers,
        heads: config.numHeads,
        kvHeads: config.numKvHeads,
        headDim: config.headDim,
        hiddenSize: config.hiddenSize,
        vocabSize: config.vocabSize,
        maxPositionEmbeddings: config.maxPositionEmbeddings,
        contextLength: model.contextLength,
        kvDtype: model.cache.dtype,
        gpu: summarizeGpu(this.context!),
        loadMs: performance.now() - started,
      };
      this.loaded = { model, tokenizer, info, stopTokenIds: tokenizer.stopTokenIds(config.eosTokenIds) };
      this.lastStats = undefined;
      this.post({ type: 'loaded', model: info });
    } catch (error) {
      tokenizer.dispose();
      throw error;
    }
  }

  private unload(): void {
    if (!this.loaded) return;
    this.loaded.model.dispose();
    this.loaded.tokenizer.dispose();
    this.loaded = undefined;
  }

  private requireModel(): LoadedModel {
    if (!this.loaded) throw new EngineError('generate', 'No model is loaded. Choose a model and press Load first.');
    return this.loaded;
  }

  private encode(loaded: LoadedModel, conversation: Conversation): number[] {
    return loaded.tokenizer.encodeChat(conversation.system, conversation.document, conversation.turns);
  }

  private async countTokens(requestId: number, conversation: Conversation): Promise<void> {
    const loaded = this.requireModel();
    const tokens = this.encode(loaded, conversation).length;
    this.post({ type: 'tokenCount', requestId, tokens, contextLength: loaded.model.contextLength });
  }

  private async generate(requestId: number, conversation: Conversation, settings: GenerationSettings): Promise<void> {
    const loaded = this.requireModel();
    const prompt = this.encode(loaded, conversation);
    const contextLength = loaded.model.contextLength;
    // At least one new token must fit after the prompt.
    if (prompt.length + 1 > contextLength) {
      throw new EngineError(
        'too-long',
        `The document and question are ${prompt.length.toLocaleString('en-US')} tokens, but the context holds ` +
          `${contextLength.toLocaleString('en-US')} including the answer. Shorten the document, or load the model with a longer context.`,
      );
    }

    const controller = new AbortController();
    this.generation = controller;
    const detokenizer = loaded.tokenizer.detokenizer();
    const stopTokenIds = new Set(loaded.stopTokenIds);
    const { chunkSize, attention, prefillStats } = settings;
    const statsRun = this.prefillStats.begin({ requestId, model: loaded.model, prompt, attention, chunkSize, options: prefillStats });
    try {
      const result = await loaded.model.generate(prompt, {
        maxNewTokens: Math.min(settings.maxNewTokens, contextLength - prompt.length),
        sampling: settings.sampling,
        stopTokenIds: loaded.stopTokenIds,
        chunkSize: settings.chunkSize,
        attention: settings.attention,
        signal: controller.signal,
        onPrefillProgress: (done, total) => this.post({ type: 'prefillProgress', requestId, done, total }),
        prefillHooks: statsRun.hooks,
        onToken: (id) => {
          if (stopTokenIds.has(id)) return;
          const text = detokenizer.push(id);
          this.post({ type: 'token', requestId, id, text });
        },
      });
      const tail = detokenizer.flush();
      if (tail) this.post({ type: 'token', requestId, id: -1, text: tail });

      const generatedTokens = result.tokens.length;
      const stats: GenerationStats = {
        promptTokens: prompt.length,
        reusedTokens: result.reusedTokens,
        prefillTokens: result.prefillTokens,
        prefillMs: result.prefillMs,
        prefillTokensPerSecond: result.prefillMs > 0 ? (result.prefillTokens * 1000) / result.prefillMs : 0,
        timeToFirstTokenMs: result.timeToFirstTokenMs,
        generatedTokens,
        decodeMs: result.decodeMs,
        decodeTokensPerSecond: result.decodeTokensPerSecond,
        stoppedBy: stoppedBy(result.stoppedBy, prompt.length + generatedTokens, contextLength),
        attention: settings.attention.kind,
      };
      this.lastStats = stats;
      this.post({ type: 'done', requestId, text: detokenizer.text, stats });
      // A prefill stopped part way has no complete statistics.
      if (result.prefillTokens > 0) this.post({ type: 'prefillStats', stats: await statsRun.finish(result, controller.signal) });
    } finally {
      statsRun.dispose();
      if (this.generation === controller) this.generation = undefined;
    }
  }

  private reset(): void {
    this.loaded?.model.resetCache();
    this.lastStats = undefined;
    this.post({ type: 'reset' });
  }
}

/**
 * Runs one dense prefill and decode step so the pipelines compile during load, not inside the
 * first answer's time to first token, then empties the KV cache again.
 * NOTE: AnchorAttention's own pipelines still compile on their first use.
 */
async function warmUp(model: TransformerModel): Promise<void> {
  await model.generate([model.config.eosTokenIds[0] ?? 0], {
    maxNewTokens: 2,
    sampling: { temperature: 0, topK: 0, topP: 1, seed: 0 },
    stopTokenIds: [],
    chunkSize: 1,
    attention: { kind: 'dense' },
    onToken: () => {},
  });
  model.resetCache();
}

/** Splits the model's 'length' into a full context and the max-new-tokens limit. */
function stoppedBy(reason: GenerateResult['stoppedBy'], usedTokens: number, contextLength: number): StoppedBy {
  if (reason !== 'length') return reason;
  return usedTokens >= contextLength ? 'context' : 'max-tokens';
}

function errorKind(error: unknown, fallback: ErrorKind): ErrorKind {
  if (error instanceof EngineError) return error.kind;
  if (error instanceof WebGpuUnavailableError) return 'webgpu-unavailable';
  if (error instanceof GpuLimitError) return 'limit';
  return fallback;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Wraps a source so each file's transfer is reported, at most every PROGRESS_INTERVAL_MS and always at its end. */
function withProgress(source: ModelSource, report: (progress: FileProgress) => void): ModelSource {
  return {
    name: source.name,
    has: (path) => source.has(path),
    fetchBytes: async (path, onProgress, signal) => {
      let lastPost = 0;
      let fromCache = false;
      const bytes = await source.fetchBytes(
        path,
        (progress) => {
          onProgress?.(progress);
          fromCache = progress.fromCache;
          const now = performance.now();
          // A retry note is posted at once, because the next chunk's progress replaces it.
          if (now - lastPost >= PROGRESS_INTERVAL_MS || (progress as DownloadFileProgress).note) {
            lastPost = now;
            report({ ...progress });
          }
        },
        signal,
      );
      // The final size is known only now when the server sent no Content-Length (compressed responses).
      report({ file: path, loaded: bytes.byteLength, total: bytes.byteLength, fromCache });
      return bytes;
    },
  };
}
