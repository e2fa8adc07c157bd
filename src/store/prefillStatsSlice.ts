import type { PrefillStats, PrefillStatsOptions } from '../engine/prefillStatsTypes';
import { DEFAULT_PREFILL_STATS_OPTIONS } from '../engine/prefillStatsTypes';
import type { SliceCreator } from './types';

/** Runs kept for the dense-versus-sparse comparison table. */
export const PREFILL_RUN_HISTORY = 12;

/** What the per-head grid colours cells by. */
export type HeadMetric = 'density' | 'recall' | 'speedup';

/** One prefill in the comparison table. */
export interface PrefillRun {
  requestId: number;
  attention: PrefillStats['attention'];
  promptKey: string;
  promptTokens: number;
  reusedTokens: number;
  prefillTokens: number;
  prefillMs: number;
  densePrefillMs?: number;
  /** Where densePrefillMs came from; 'later run' is a dense run of the same prompt after this one. */
  denseSource?: PrefillStats['denseSource'] | 'later run';
  speedup?: number;
}

export interface PrefillStatsSlice {
  /** Statistics of the last AnchorAttention prefill that collected them. */
  anchorStats: PrefillStats | null;
  /** Latest runs first, dense and sparse. */
  prefillRuns: PrefillRun[];
  prefillStatsOptions: PrefillStatsOptions;
  headMetric: HeadMetric;
  /** The head whose stripe map is open. */
  selectedHead: { layer: number; head: number } | null;

  applyPrefillStats: (stats: PrefillStats) => void;
  setPrefillStatsOption: <K extends keyof PrefillStatsOptions>(key: K, value: PrefillStatsOptions[K]) => void;
  setHeadMetric: (metric: HeadMetric) => void;
  selectHead: (head: { layer: number; head: number } | null) => void;
}

/**
 * Gives earlier sparse runs of the same prompt and reused prefix that lack a dense time this dense
 * run's time, so that switching to dense and asking the same question again completes the comparison.
 */
function pairWithSparseRuns(dense: PrefillRun, earlier: PrefillRun[]): PrefillRun[] {
  return earlier.map((run) => {
    const matches = run.attention === 'anchor' && run.densePrefillMs === undefined && run.promptKey === dense.promptKey && run.reusedTokens === dense.reusedTokens;
    if (!matches) return run;
    return { ...run, densePrefillMs: dense.prefillMs, denseSource: 'later run', speedup: run.prefillMs > 0 ? dense.prefillMs / run.prefillMs : undefined };
  });
}

export const createPrefillStatsSlice: SliceCreator<PrefillStatsSlice> = (set) => ({
  anchorStats: null,
  prefillRuns: [],
  prefillStatsOptions: DEFAULT_PREFILL_STATS_OPTIONS,
  headMetric: 'density',
  selectedHead: null,

  applyPrefillStats: (stats) =>
    set((state) => {
      const run: PrefillRun = {
        requestId: stats.requestId,
        attention: stats.attention,
        promptKey: stats.promptKey,
        promptTokens: stats.promptTokens,
        reusedTokens: stats.reusedTokens,
        prefillTokens: stats.prefillTokens,
        prefillMs: stats.prefillMs,
        densePrefillMs: stats.densePrefillMs,
        denseSource: stats.denseSource,
        speedup: stats.speedup,
      };
      const earlier = run.attention === 'dense' ? pairWithSparseRuns(run, state.prefillRuns) : state.prefillRuns;
      const prefillRuns = [run, ...earlier].slice(0, PREFILL_RUN_HISTORY);
      if (!stats.anchor) return { prefillRuns };
      return { prefillRuns, anchorStats: stats, selectedHead: null };
    }),
  setPrefillStatsOption: (key, value) => set((state) => ({ prefillStatsOptions: { ...state.prefillStatsOptions, [key]: value } })),
  setHeadMetric: (headMetric) => set({ headMetric }),
  selectHead: (selectedHead) => set({ selectedHead }),
});
