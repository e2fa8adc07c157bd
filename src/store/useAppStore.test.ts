import { describe, expect, it } from 'vitest';
import { SHORT_CONTEXT_ANCHOR_PARAMS } from '../attention/types';
import type { GenerationStats } from '../engine/protocol';
import { applyWorkerMessage } from './applyWorkerMessage';
import { createAppStore } from './useAppStore';

const stats: GenerationStats = {
  promptTokens: 120,
  reusedTokens: 0,
  prefillTokens: 120,
  prefillMs: 50,
  prefillTokensPerSecond: 2400,
  timeToFirstTokenMs: 60,
  generatedTokens: 3,
  decodeMs: 20,
  decodeTokensPerSecond: 100,
  stoppedBy: 'eos',
  attention: 'anchor',
};

describe('conversation slice', () => {
  it('streams an answer into the history', () => {
    const store = createAppStore();
    store.getState().setDocument('Doc');
    store.getState().setDraft('  Question?  ');

    const request = store.getState().submitQuestion();

    // The trimmed draft becomes the pending user turn and the composer empties.
    expect(request?.conversation.turns).toEqual([{ role: 'user', content: 'Question?' }]);
    expect(request?.conversation.document).toBe('Doc');
    expect(store.getState().draft).toBe('');

    const requestId = request!.requestId;
    applyWorkerMessage(store.getState(), { type: 'prefillProgress', requestId, done: 1, total: 2 });
    applyWorkerMessage(store.getState(), { type: 'token', requestId, id: 5, text: 'Hel' });
    applyWorkerMessage(store.getState(), { type: 'token', requestId, id: 6, text: 'lo' });
    expect(store.getState().prefill).toEqual({ done: 1, total: 2 });
    expect(store.getState().streamingText).toBe('Hello');
    expect(store.getState().liveTokens).toBe(2);

    applyWorkerMessage(store.getState(), { type: 'done', requestId, text: 'Hello', stats });
    expect(store.getState().turns).toEqual([
      { role: 'user', content: 'Question?' },
      { role: 'assistant', content: 'Hello', stats },
    ]);
    expect(store.getState().activeRequestId).toBeNull();
    expect(store.getState().lastStats).toEqual(stats);
  });

  it('restores the question after a failed request', () => {
    const store = createAppStore();
    store.getState().setDraft('Why?');
    const { requestId } = store.getState().submitQuestion()!;

    applyWorkerMessage(store.getState(), { type: 'error', kind: 'too-long', message: 'too long', requestId });

    // Nothing typed is lost: the question moves back into the composer.
    expect(store.getState().turns).toEqual([]);
    expect(store.getState().draft).toBe('Why?');
    expect(store.getState().error).toEqual({ kind: 'too-long', message: 'too long' });
  });

  it('ignores tokens of an older request', () => {
    const store = createAppStore();
    store.getState().setDraft('Q');
    const { requestId } = store.getState().submitQuestion()!;

    applyWorkerMessage(store.getState(), { type: 'token', requestId: requestId + 100, id: 1, text: 'stale' });

    expect(store.getState().streamingText).toBe('');
  });

  it('rejects a second question while one is streaming', () => {
    const store = createAppStore();
    store.getState().setDraft('Q1');
    store.getState().submitQuestion();
    store.getState().setDraft('Q2');

    expect(store.getState().submitQuestion()).toBeNull();
    expect(store.getState().draft).toBe('Q2');
  });

  it('keeps only the newest token count', () => {
    const store = createAppStore();
    const older = store.getState().nextCountRequest();
    const newer = store.getState().nextCountRequest();

    applyWorkerMessage(store.getState(), { type: 'tokenCount', requestId: newer, tokens: 10, contextLength: 100 });
    applyWorkerMessage(store.getState(), { type: 'tokenCount', requestId: older, tokens: 99, contextLength: 100 });

    expect(store.getState().tokenCount).toEqual({ requestId: newer, tokens: 10, contextLength: 100 });
  });

  it('marks the count stale until it covers the latest edit', () => {
    const store = createAppStore();
    store.getState().setDocument('Doc');
    const requestId = store.getState().nextCountRequest();
    // An edit after the request was sent makes its response out of date on arrival.
    store.getState().setDraft('Q');

    applyWorkerMessage(store.getState(), { type: 'tokenCount', requestId, tokens: 5, contextLength: 100 });
    expect(store.getState().tokenCountVersion).not.toBe(store.getState().editVersion);

    const current = store.getState().nextCountRequest();
    applyWorkerMessage(store.getState(), { type: 'tokenCount', requestId: current, tokens: 6, contextLength: 100 });
    expect(store.getState().tokenCountVersion).toBe(store.getState().editVersion);
  });

  it('counts the draft as the pending question', () => {
    const store = createAppStore();
    store.getState().setDocument('Doc');
    store.getState().setDraft('Next?');

    expect(store.getState().conversationForCount().turns).toEqual([{ role: 'user', content: 'Next?' }]);
  });

  it('counts the pending question, not the draft, while streaming', () => {
    const store = createAppStore();
    store.getState().setDraft('Asked');
    store.getState().submitQuestion();
    store.getState().setDraft('Typing the next one');

    expect(store.getState().conversationForCount().turns).toEqual([{ role: 'user', content: 'Asked' }]);
  });

  it('clears turns and statistics on reset', () => {
    const store = createAppStore();
    store.getState().setDocument('Doc');
    store.getState().setDraft('Q');
    const { requestId } = store.getState().submitQuestion()!;
    applyWorkerMessage(store.getState(), { type: 'done', requestId, text: 'A', stats });

    store.getState().resetConversation();

    expect(store.getState().turns).toEqual([]);
    expect(store.getState().lastStats).toBeNull();
    expect(store.getState().document).toBe('Doc');
  });
});

describe('model slice', () => {
  it('tracks per-file progress in arrival order', () => {
    const store = createAppStore();
    store.getState().startLoad();

    applyWorkerMessage(store.getState(), { type: 'loadProgress', phase: 'download', file: { file: 'a', loaded: 1, total: 4, fromCache: false } });
    applyWorkerMessage(store.getState(), { type: 'loadProgress', phase: 'download', file: { file: 'b', loaded: 2, total: 2, fromCache: true } });
    applyWorkerMessage(store.getState(), { type: 'loadProgress', phase: 'download', file: { file: 'a', loaded: 4, total: 4, fromCache: false } });

    expect(store.getState().fileProgress.map((entry) => [entry.file, entry.loaded])).toEqual([
      ['a', 4],
      ['b', 2],
    ]);
  });

  it('builds a hub reference from the settings', () => {
    const store = createAppStore();
    store.getState().chooseModel({ kind: 'custom' });
    store.getState().setCustomRepoId(' org/model ');
    store.getState().setHubBaseUrl('http://127.0.0.1:9000');

    expect(store.getState().modelRef()).toEqual({ kind: 'hub', repoId: 'org/model', revision: 'main', baseUrl: 'http://127.0.0.1:9000', accessToken: undefined, cache: true });
  });

  it('builds a memory-only hub reference', () => {
    const store = createAppStore();
    store.getState().chooseModel({ kind: 'hub', repoId: 'org/model' });
    store.getState().setCacheModels(false);

    expect(store.getState().modelRef()).toMatchObject({ kind: 'hub', repoId: 'org/model', cache: false });
  });

  it('drops a stale memory check answer', () => {
    const store = createAppStore();
    const first = store.getState().startFitCheck();
    store.getState().startFitCheck();

    // The answer to the first request arrives after the second was sent, so it is ignored.
    store.getState().applyFitReport(first, undefined, 'old');

    expect(store.getState().fitError).toBeNull();
    expect(store.getState().fitRequestId).not.toBeNull();
  });

  it('rejects an empty custom repository id', () => {
    const store = createAppStore();
    store.getState().chooseModel({ kind: 'custom' });

    expect(() => store.getState().modelRef()).toThrow(/Enter a repository id/);
  });

  it('shows the full-page screen when WebGPU is missing', () => {
    const store = createAppStore();

    applyWorkerMessage(store.getState(), { type: 'error', kind: 'webgpu-unavailable', message: 'No WebGPU' });

    expect(store.getState().probe).toEqual({ status: 'failed', kind: 'webgpu-unavailable', message: 'No WebGPU' });
  });

  it('marks a failed load', () => {
    const store = createAppStore();
    store.getState().startLoad();

    applyWorkerMessage(store.getState(), { type: 'error', kind: 'load', message: 'HTTP 404' });

    expect(store.getState().loadState).toBe('failed');
    expect(store.getState().error?.message).toBe('HTTP 404');
  });
});

describe('settings slice', () => {
  it('applies the short-context preset and its chunk size', () => {
    const store = createAppStore();

    store.getState().applyAnchorPreset('short-context');

    expect(store.getState().anchorParams).toEqual(SHORT_CONTEXT_ANCHOR_PARAMS);
    expect(store.getState().chunkSize).toBe(512);
    expect(store.getState().generationSettings().attention).toEqual({ kind: 'anchor', params: SHORT_CONTEXT_ANCHOR_PARAMS });
  });

  it('marks an edited parameter as a custom preset', () => {
    const store = createAppStore();

    store.getState().setAnchorParam('theta', 8);

    expect(store.getState().anchorPreset).toBe('custom');
    expect(store.getState().anchorParams.theta).toBe(8);
  });

  it('sends dense attention without parameters', () => {
    const store = createAppStore();

    store.getState().setAttentionKind('dense');

    expect(store.getState().generationSettings().attention).toEqual({ kind: 'dense' });
  });
});
