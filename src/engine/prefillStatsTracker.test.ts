import { describe, expect, it } from 'vitest';
import type { TransformerModel } from '../model/model';
import { PrefillStatsTracker, promptKey } from './prefillStatsTracker';
import type { AnchorParams } from '../attention/types';

const params: AnchorParams = { blockSize: 4, step: 2, theta: 12, initGroups: 1, localGroups: 1, denseLastGroup: false };
const noStats = { collect: false, detailed: false, compareWithDense: false };

/** Builds the parts of TransformerModel that the tracker uses, recording each call. */
function fakeModel(densePrefillMs = 80) {
  const calls: string[] = [];
  const model = {
    resetCache: () => calls.push('reset'),
    cache: { length: 30, truncate: (length: number) => calls.push(`truncate ${length}`) },
    prefill: async (_tokens: readonly number[], options: { attention: { kind: string } }) => {
      calls.push(`prefill ${options.attention.kind}`);
      return { reusedTokens: 0, prefillTokens: 30, prefillMs: densePrefillMs };
    },
  };
  return { model: model as unknown as TransformerModel, calls };
}

const prompt = Array.from({ length: 30 }, (_, i) => i * 7);
const result = (prefillMs: number) => ({ reusedTokens: 0, prefillTokens: 30, prefillMs });

describe('PrefillStatsTracker', () => {
  it('promptKey tells prompts apart', () => {
    expect(promptKey(prompt)).toBe(promptKey([...prompt]));
    expect(promptKey(prompt)).not.toBe(promptKey([...prompt.slice(0, 29), 1]));
    expect(promptKey([256])).not.toBe(promptKey([1]));
  });

  it('reuses an earlier dense time of the same prompt', async () => {
    const tracker = new PrefillStatsTracker();
    const { model } = fakeModel();
    const dense = await tracker.begin({ requestId: 1, model, prompt, attention: { kind: 'dense' }, chunkSize: 8 }).finish(result(120));
    expect(dense.attention).toBe('dense');
    const sparse = await tracker.begin({ requestId: 2, model, prompt, attention: { kind: 'anchor', params }, chunkSize: 8, options: noStats }).finish(result(40));
    expect(sparse.densePrefillMs).toBe(120);
    expect(sparse.denseSource).toBe('previous run');
    expect(sparse.speedup).toBe(3);
    expect(sparse.anchor).toBeUndefined();
  });

  it('empties the KV cache when the attention mode changes', () => {
    const tracker = new PrefillStatsTracker();
    const { model, calls } = fakeModel();
    tracker.begin({ requestId: 1, model, prompt, attention: { kind: 'dense' }, chunkSize: 8 });
    tracker.begin({ requestId: 2, model, prompt, attention: { kind: 'dense' }, chunkSize: 8 });
    expect(calls).toEqual([]);
    tracker.begin({ requestId: 3, model, prompt, attention: { kind: 'anchor', params }, chunkSize: 8, options: noStats });
    expect(calls).toEqual(['reset']);
    // Other parameters are another mode too, because the cached keys depend on them.
    tracker.begin({ requestId: 4, model, prompt, attention: { kind: 'anchor', params: { ...params, theta: 3 } }, chunkSize: 8, options: noStats });
    expect(calls).toEqual(['reset', 'reset']);
  });

  it('measures a dense prefill of the same rows on request', async () => {
    const tracker = new PrefillStatsTracker();
    const { model, calls } = fakeModel(90);
    const run = tracker.begin({ requestId: 1, model, prompt, attention: { kind: 'anchor', params }, chunkSize: 8, options: { ...noStats, compareWithDense: true } });
    const stats = await run.finish({ reusedTokens: 5, prefillTokens: 25, prefillMs: 30 });
    expect(calls).toEqual(['truncate 5', 'prefill dense']);
    expect(stats.densePrefillMs).toBe(90);
    expect(stats.denseSource).toBe('measured');
    expect(stats.speedup).toBe(3);
    // The cache now contains dense keys, so a following dense request keeps it.
    tracker.begin({ requestId: 2, model, prompt, attention: { kind: 'dense' }, chunkSize: 8 });
    expect(calls).toHaveLength(2);
  });
});
