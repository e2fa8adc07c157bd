/**
 * The engine's side of prefill statistics: per generate request, an AnchorStatsCollector wired into
 * the prefill hooks, the dense comparison (a dense prefill of the same prompt run on request, or an
 * earlier dense run's time), and the `prefillStats` message content.
 */
import type { AttentionMode } from '../attention/types';
import type { PrefillOptions, TransformerModel } from '../model/model';
import { AnchorStatsCollector } from './anchorStatsCollector';
import { DEFAULT_PREFILL_STATS_OPTIONS, type PrefillStats, type PrefillStatsOptions } from './prefillStatsTypes';

/** FNV-1a over the token ids, as 8 hex digits: pairs runs of the same prompt. */
export function promptKey(tokens: readonly number[]): string {
  let hash = 0x811c9dc5;
  for (const id of tokens) {
    for (let shift = 0; shift < 32; shift += 8) {
      hash ^= (id >>> shift) & 0xff;
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
  }
  return `${tokens.length}-${hash.toString(16).padStart(8, '0')}`;
}

export interface PrefillStatsRequest {
  requestId: number;
  model: TransformerModel;
  prompt: readonly number[];
  attention: AttentionMode;
  /** Rows per prefill chunk of a dense run. */
  chunkSize: number;
  options?: PrefillStatsOptions;
}

/** One request's statistics: hooks for generate, then `finish` with the prefill's result. */
export interface PrefillStatsRun {
  hooks: Pick<PrefillOptions, 'onQuery' | 'onAnchorChunk'>;
  finish(result: { reusedTokens: number; prefillTokens: number; prefillMs: number }, signal?: AbortSignal): Promise<PrefillStats>;
  dispose(): void;
}

export class PrefillStatsTracker {
  /** Dense prefill times by prompt key and reused prefix. */
  private readonly denseTimes = new Map<string, number>();
  /** The attention mode whose prefill filled the KV cache. */
  private cacheMode: string | undefined;

  /**
   * Starts the statistics of one request. When the attention mode differs from the one that filled the
   * KV cache, the cache is emptied first. Later layers' keys depend on the attention that produced them,
   * and a comparison of prefill times needs both modes to prefill the same tokens.
   */
  begin(request: PrefillStatsRequest): PrefillStatsRun {
    const { model, prompt, attention, requestId } = request;
    const options = request.options ?? DEFAULT_PREFILL_STATS_OPTIONS;
    const mode = JSON.stringify(attention);
    if (this.cacheMode !== undefined && this.cacheMode !== mode) model.resetCache();
    this.cacheMode = mode;

    const config = model.config;
    const collector =
      attention.kind === 'anchor' && options.collect
        ? new AnchorStatsCollector({
            runtime: model.runtime,
            cache: model.cache,
            shape: { numHeads: config.numHeads, numKvHeads: config.numKvHeads, headDim: config.headDim },
            numLayers: config.numLayers,
            params: attention.params,
            prompt,
            detailed: options.detailed,
          })
        : undefined;
    const key = promptKey(prompt);

    const finish = async (result: { reusedTokens: number; prefillTokens: number; prefillMs: number }, signal?: AbortSignal): Promise<PrefillStats> => {
      const timeKey = `${key}@${result.reusedTokens}`;
      const stats: PrefillStats = {
        requestId,
        attention: attention.kind,
        promptKey: key,
        promptTokens: prompt.length,
        reusedTokens: result.reusedTokens,
        prefillTokens: result.prefillTokens,
        prefillMs: result.prefillMs - (collector?.overheadMs ?? 0),
        statisticsMs: collector?.overheadMs ?? 0,
      };
      if (attention.kind === 'dense') {
        this.denseTimes.set(timeKey, result.prefillMs);
        return stats;
      }
      stats.params = attention.params;
      if (collector) stats.anchor = collector.finish(result.reusedTokens);
      if (options.compareWithDense && !signal?.aborted) {
        // The dense run prefills exactly the rows the sparse one did, after the same reused prefix.
        model.cache.truncate(Math.min(result.reusedTokens, model.cache.length));
        const dense = await model.prefill(prompt, { chunkSize: request.chunkSize, attention: { kind: 'dense' }, signal });
        this.cacheMode = JSON.stringify({ kind: 'dense' });
        this.denseTimes.set(timeKey, dense.prefillMs);
        stats.densePrefillMs = dense.prefillMs;
        stats.denseSource = 'measured';
      } else if (this.denseTimes.has(timeKey)) {
        stats.densePrefillMs = this.denseTimes.get(timeKey);
        stats.denseSource = 'previous run';
      }
      if (stats.densePrefillMs !== undefined && stats.prefillMs > 0) stats.speedup = stats.densePrefillMs / stats.prefillMs;
      return stats;
    };

    return {
      hooks: collector ? { onQuery: collector.onQuery, onAnchorChunk: collector.onAnchorChunk } : {},
      finish,
      dispose: () => collector?.dispose(),
    };
  }

  /** Forgets the cache's mode after the cache was emptied or the model replaced. */
  forgetCache(): void {
    this.cacheMode = undefined;
  }
}
