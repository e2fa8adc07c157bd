import { describe, expect, it } from 'vitest';
import type { NeedleCaseResult } from '../engine/benchmarkProtocol';
import { applyWorkerMessage } from './applyWorkerMessage';
import { parseNumberList } from './benchmarkSlice';
import { createAppStore } from './useAppStore';

function caseResult(index: number): NeedleCaseResult {
  const run = { answer: '', score: 0 as const, prefillMs: 10, generatedTokens: 4 };
  return {
    index,
    targetTokens: 256,
    depth: 0.5,
    actualDepth: 0.5,
    promptTokens: 255,
    expected: '1234567',
    dense: { ...run, attention: 'dense' },
    sparse: { ...run, attention: 'anchor' },
    speedup: 1,
  };
}

describe('benchmark slice', () => {
  it('builds a needle request from the settings', () => {
    const store = createAppStore();
    store.getState().setNeedleLengthsText('256, 1k');
    store.getState().setNeedleDepthsText('0 0.5 1');
    store.getState().setNeedleSeed(9);

    const request = store.getState().startNeedleRun();

    // The anchor parameters, chunk size and system prompt come from the chat settings.
    const state = store.getState();
    expect(request?.config).toEqual({
      lengths: [256, 1000],
      depths: [0, 0.5, 1],
      seed: 9,
      maxNewTokens: state.needleMaxNewTokens,
      chunkSize: state.chunkSize,
      anchor: state.anchorParams,
      system: state.systemPrompt,
    });
    expect(state.benchmarkTask).toEqual({ kind: 'needle', requestId: request?.requestId });
    expect(state.needleStatus).toBe('running');
  });

  it('rejects a list that does not parse', () => {
    const store = createAppStore();
    store.getState().setNeedleDepthsText('0.5, 2');
    expect(store.getState().startNeedleRun()).toBeNull();
    expect(store.getState().benchmarkInputError).toBe('"2" is not a valid depth: depths are between 0 and 1.');
    expect(store.getState().benchmarkTask).toBeNull();
  });

  it('streams needle cases of its own request only', () => {
    const store = createAppStore();
    const requestId = store.getState().startNeedleRun()!.requestId;

    applyWorkerMessage(store.getState(), { type: 'benchmarkProgress', requestId, done: 1, total: 6, label: 'x' });
    applyWorkerMessage(store.getState(), { type: 'needleCase', requestId, result: caseResult(0) });
    applyWorkerMessage(store.getState(), { type: 'needleCase', requestId: requestId + 100, result: caseResult(1) });
    expect(store.getState().benchmarkProgress).toEqual({ done: 1, total: 6, label: 'x' });
    expect(store.getState().needleResults.map((result) => result.index)).toEqual([0]);

    applyWorkerMessage(store.getState(), { type: 'needleDone', requestId, aborted: true });
    expect(store.getState().needleStatus).toBe('stopped');
    expect(store.getState().benchmarkTask).toBeNull();
    expect(store.getState().benchmarkProgress).toBeNull();
  });

  it('keeps a finished capture', () => {
    const store = createAppStore();
    store.getState().setCaptureLayersText('1, 0');
    const request = store.getState().startCapture('Some text')!;
    expect(request).toMatchObject({ type: 'captureQkv', text: 'Some text', layers: [1, 0], maxTokens: 1024, dtype: 'f32' });

    const bytes = new Uint8Array([1, 2, 3]);
    applyWorkerMessage(store.getState(), { type: 'qkvCapture', requestId: request.requestId, bytes, fileName: 'a.qkv', numTokens: 5, layers: [0, 1] });
    expect(store.getState().lastCapture).toEqual({ fileName: 'a.qkv', bytes, numTokens: 5, layers: [0, 1] });
    expect(store.getState().benchmarkTask).toBeNull();
  });

  it('ends a failed request and shows its error', () => {
    const store = createAppStore();
    const requestId = store.getState().startNeedleRun()!.requestId;
    applyWorkerMessage(store.getState(), { type: 'error', kind: 'generate', message: 'No model is loaded.', requestId });
    expect(store.getState().needleStatus).toBe('failed');
    expect(store.getState().benchmarkTask).toBeNull();
    expect(store.getState().error?.message).toBe('No model is loaded.');
  });

  it('asks for a capture before computing curves', () => {
    const store = createAppStore();
    expect(store.getState().startCurves()).toBeNull();
    expect(store.getState().benchmarkInputError).toBe('Open a capture file first.');

    store.getState().openCaptureForCurves({ fileName: 'c.qkv', bytes: new Uint8Array(8), layers: [3, 5], numHeads: 4, numTokens: 100 });
    store.getState().setCurveHead(2);
    const request = store.getState().startCurves();
    expect(request).toMatchObject({ type: 'computeCurves', layer: 3, head: 2, maxTokens: 100, anchor: null });
  });
});

describe('parseNumberList', () => {
  it('accepts commas, spaces and a k suffix', () => {
    expect(parseNumberList('1k, 2K 4096', 'length', () => true, '')).toEqual([1000, 2000, 4096]);
  });

  it('rejects an empty list', () => {
    expect(() => parseNumberList(' , ', 'layer', () => true, '')).toThrow('Enter at least one layer.');
  });
});
