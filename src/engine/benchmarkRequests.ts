/**
 * The engine's handlers of the benchmark panel's requests: Q/K/V capture export, needle runs and
 * per-head curves. The Engine queues them with its other model work; `stop` aborts the running one.
 */
import type { TransformerModel } from '../model/model';
import type { TextTokenizer } from '../tokenizer/tokenizer';
import { captureHead, headSweepConfig, sweepHead } from '../eval/headCurves';
import type { BenchmarkRequest, BenchmarkResponse } from './benchmarkProtocol';
import { runNeedleBenchmark, type NeedleBackend } from './needleRunner';
import { captureQkvFile } from './qkvCapture';

/** The parts of the engine's loaded model that the benchmarks use. */
export interface BenchmarkModel {
  model: TransformerModel;
  tokenizer: TextTokenizer;
  info: { name: string };
  stopTokenIds: number[];
}

const GREEDY = { temperature: 0, topK: 0, topP: 1, seed: 0 };

/** Runs the needle runner's prompts on the loaded model, each from an empty KV cache. */
export function modelNeedleBackend(loaded: BenchmarkModel): NeedleBackend {
  const { model, tokenizer, stopTokenIds } = loaded;
  const stops = new Set(stopTokenIds);
  return {
    contextLength: model.contextLength,
    encodePrompt: (system, userMessage) => tokenizer.encodeChat(system, '', [{ role: 'user', content: userMessage }]),
    answer: async (tokens, { attention, chunkSize, maxNewTokens, signal }) => {
      // Without the reset, the second run would reuse the first run's cached prompt and prefill one token.
      model.resetCache();
      const result = await model.generate(tokens, { maxNewTokens, sampling: GREEDY, stopTokenIds, chunkSize, attention, signal, onToken: () => {} });
      const answerIds = result.tokens.filter((id) => !stops.has(id));
      return { answer: tokenizer.decode(answerIds), prefillMs: result.prefillMs, generatedTokens: result.tokens.length };
    },
  };
}

/** Builds a capture download's file name, such as "tiny-qwen2-qkv-L0-1-512tok.qkv". */
export function captureFileName(modelName: string, layers: number[], numTokens: number): string {
  const base = modelName.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${base}-qkv-L${layers.join('-')}-${numTokens}tok.qkv`;
}

export class BenchmarkRequests {
  private controller: AbortController | undefined;

  constructor(private readonly post: (message: BenchmarkResponse) => void) {}

  /** Aborts the running benchmark request, if any. */
  stop(): void {
    this.controller?.abort();
  }

  /** Handles one request; `requireModel` throws when no model is loaded. Errors propagate to the engine. */
  async handle(request: Exclude<BenchmarkRequest, { type: 'stopBenchmark' }>, requireModel: () => BenchmarkModel): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    try {
      switch (request.type) {
        case 'captureQkv':
          return await this.capture(request, requireModel(), controller.signal);
        case 'runNeedle':
          return await this.needle(request, requireModel(), controller.signal);
        case 'computeCurves':
          return await this.curves(request, controller.signal);
      }
    } catch (error) {
      // A stopped request is not a failure: the page only needs to know that it ended.
      if (!controller.signal.aborted) throw error;
      this.post({ type: 'benchmarkAborted', requestId: request.requestId });
    } finally {
      if (this.controller === controller) this.controller = undefined;
    }
  }

  private async capture(request: Extract<BenchmarkRequest, { type: 'captureQkv' }>, loaded: BenchmarkModel, signal: AbortSignal): Promise<void> {
    const { requestId, maxTokens } = request;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new Error(`captureQkv: max tokens must be a positive integer, got ${maxTokens}`);
    const limit = Math.min(maxTokens, loaded.model.contextLength);
    const tokens = loaded.tokenizer.encode(request.text).slice(0, limit);
    if (tokens.length === 0) throw new Error('captureQkv: the text is empty; paste a document first');
    const layers = [...new Set(request.layers)].sort((a, b) => a - b);
    const bytes = await captureQkvFile(loaded.model, tokens, {
      layers,
      chunkSize: request.chunkSize,
      dtype: request.dtype,
      modelName: loaded.info.name,
      note: `first ${tokens.length} tokens of the app's document, tokenised without the chat template; dense prefill`,
      signal,
      onProgress: (done, total) => this.post({ type: 'benchmarkProgress', requestId, done, total, label: 'capture prefill' }),
    });
    this.post({ type: 'qkvCapture', requestId, bytes, fileName: captureFileName(loaded.info.name, layers, tokens.length), numTokens: tokens.length, layers });
  }

  private async needle(request: Extract<BenchmarkRequest, { type: 'runNeedle' }>, loaded: BenchmarkModel, signal: AbortSignal): Promise<void> {
    const { requestId } = request;
    await runNeedleBenchmark(request.config, modelNeedleBackend(loaded), {
      signal,
      onProgress: (done, total, label) => this.post({ type: 'benchmarkProgress', requestId, done, total, label }),
      onCase: (result) => this.post({ type: 'needleCase', requestId, result }),
    });
    this.post({ type: 'needleDone', requestId, aborted: signal.aborted });
  }

  private async curves(request: Extract<BenchmarkRequest, { type: 'computeCurves' }>, signal: AbortSignal): Promise<void> {
    const { requestId, layer, head } = request;
    const input = captureHead(request.bytes, layer, head, request.maxTokens);
    const config = headSweepConfig(input.N);
    if (request.anchor) config.anchor = request.anchor;
    const points = await sweepHead(input, config, {
      signal,
      onProgress: (done, total, label) => this.post({ type: 'benchmarkProgress', requestId, done, total, label }),
    });
    const anchor = config.anchor;
    this.post({
      type: 'headCurves',
      requestId,
      curves: {
        name: `layer ${layer} head ${head}`,
        description: `${input.description}; AnchorAttention b = ${anchor.blockSize}, s = ${anchor.step} (G = ${anchor.blockSize * anchor.step}); blocks of ${config.blockSize}`,
        N: input.N,
        points,
      },
    });
  }
}
