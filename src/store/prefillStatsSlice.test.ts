import { describe, expect, it } from 'vitest';
import type { PrefillStats } from '../engine/prefillStatsTypes';
import { PREFILL_RUN_HISTORY } from './prefillStatsSlice';
import { createAppStore } from './useAppStore';

function run(requestId: number, attention: 'dense' | 'anchor', prefillMs: number, extra: Partial<PrefillStats> = {}): PrefillStats {
  return { requestId, attention, promptKey: 'p1', promptTokens: 100, reusedTokens: 0, prefillTokens: 100, prefillMs, statisticsMs: 0, ...extra };
}

const anchorPart: NonNullable<PrefillStats['anchor']> = {
  numLayers: 1,
  numHeads: 1,
  groupSize: 8,
  detailed: false,
  chunks: [],
  anchorOnlyDensity: 0.5,
  layers: [{ layer: 0, heads: [{ stripes: 0, density: 0.5, stripeShare: 0, workBound: 2 }] }],
  stripes: [[[]]],
  sampledRows: [],
};

describe('prefill statistics slice', () => {
  it('keeps anchor statistics and lists runs latest first', () => {
    const store = createAppStore();
    store.getState().selectHead({ layer: 0, head: 0 });
    store.getState().applyPrefillStats(run(1, 'anchor', 50, { anchor: anchorPart }));
    // New statistics close the stripe map of the previous run.
    expect(store.getState().selectedHead).toBeNull();
    expect(store.getState().anchorStats?.requestId).toBe(1);
    store.getState().applyPrefillStats(run(2, 'dense', 200));
    // A dense run leaves the grid of the last sparse run in place.
    expect(store.getState().anchorStats?.requestId).toBe(1);
    expect(store.getState().prefillRuns.map((entry) => entry.requestId)).toEqual([2, 1]);
  });

  it('pairs a later dense run of the same prompt with the sparse run', () => {
    const store = createAppStore();
    store.getState().applyPrefillStats(run(1, 'anchor', 50, { anchor: anchorPart }));
    store.getState().applyPrefillStats(run(2, 'dense', 200, { promptKey: 'other' }));
    // A different prompt does not pair.
    expect(store.getState().prefillRuns[1].speedup).toBeUndefined();
    store.getState().applyPrefillStats(run(3, 'dense', 200));
    const sparse = store.getState().prefillRuns.find((entry) => entry.requestId === 1)!;
    expect(sparse.densePrefillMs).toBe(200);
    expect(sparse.denseSource).toBe('later run');
    expect(sparse.speedup).toBe(4);
  });

  it('keeps a measured dense time and caps the history', () => {
    const store = createAppStore();
    store.getState().applyPrefillStats(run(1, 'anchor', 50, { densePrefillMs: 100, denseSource: 'measured', speedup: 2 }));
    store.getState().applyPrefillStats(run(2, 'dense', 300));
    // The measured time stays; a later dense run does not replace it.
    expect(store.getState().prefillRuns[1].speedup).toBe(2);
    for (let i = 3; i < 3 + PREFILL_RUN_HISTORY; i++) store.getState().applyPrefillStats(run(i, 'dense', 10));
    expect(store.getState().prefillRuns).toHaveLength(PREFILL_RUN_HISTORY);
  });

  it('sends the statistics options with generate settings', () => {
    const store = createAppStore();
    store.getState().setPrefillStatsOption('detailed', true);
    expect(store.getState().generationSettings().prefillStats).toEqual({ collect: true, detailed: true, compareWithDense: false });
  });
});
