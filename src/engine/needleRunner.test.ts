import { describe, expect, it } from 'vitest';
import { DEFAULT_ANCHOR_PARAMS, type AttentionMode } from '../attention/types';
import { needleCases, runNeedleBenchmark, type NeedleBackend, type NeedleCaseResult, type NeedleRunConfig } from './needleRunner';

/** A chat template stand-in: a fixed prefix and suffix around the message, so counts include template tokens. */
const TEMPLATE_PREFIX = '<system>';
const TEMPLATE_SUFFIX = '<assistant>';

interface Call {
  attention: AttentionMode;
  chunkSize: number;
  maxNewTokens: number;
  promptLength: number;
}

/**
 * A mocked model with one token per character: the dense run reads the needle's number from the
 * prompt and answers it, the sparse run answers a wrong number, and prefill times are fixed.
 */
function mockBackend(contextLength = 4096, onAnswer?: (call: Call) => void): NeedleBackend & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    contextLength,
    encodePrompt: (system, message) => Array.from(`${system}${TEMPLATE_PREFIX}${message}${TEMPLATE_SUFFIX}`, (char) => char.charCodeAt(0)),
    answer: async (tokens, { attention, chunkSize, maxNewTokens }) => {
      const call = { attention, chunkSize, maxNewTokens, promptLength: tokens.length };
      calls.push(call);
      onAnswer?.(call);
      const text = String.fromCharCode(...tokens);
      const number = /special magic number for [a-z-]+ is: (\d{7})\./.exec(text)?.[1] ?? 'none';
      return attention.kind === 'dense'
        ? { answer: ` ${number}`, prefillMs: 100, generatedTokens: 8 }
        : { answer: 'I do not know', prefillMs: 40, generatedTokens: 5 };
    },
  };
}

const CONFIG: NeedleRunConfig = {
  lengths: [600, 900],
  depths: [0.1, 0.9],
  seed: 5,
  maxNewTokens: 9,
  chunkSize: 256,
  anchor: { ...DEFAULT_ANCHOR_PARAMS, blockSize: 16, step: 4 },
  system: 'Be brief.',
};

describe('runNeedleBenchmark', () => {
  it('runs every case with dense then sparse prefill', async () => {
    const backend = mockBackend();
    const streamed: NeedleCaseResult[] = [];
    const results = await runNeedleBenchmark(CONFIG, backend, { onCase: (result) => streamed.push(result) });

    // Lengths outer, depths inner; each case reported as it finished.
    expect(results.map((result) => [result.targetTokens, result.depth])).toEqual([
      [600, 0.1],
      [600, 0.9],
      [900, 0.1],
      [900, 0.9],
    ]);
    expect(streamed).toEqual(results);
    expect(backend.calls.map((call) => call.attention.kind)).toEqual(['dense', 'anchor', 'dense', 'anchor', 'dense', 'anchor', 'dense', 'anchor']);
    for (const call of backend.calls) {
      expect(call.chunkSize).toBe(256);
      expect(call.maxNewTokens).toBe(9);
      if (call.attention.kind === 'anchor') expect(call.attention.params).toEqual(CONFIG.anchor);
    }
  });

  it('sizes prompts over the chat template', async () => {
    const backend = mockBackend();
    const results = await runNeedleBenchmark(CONFIG, backend);
    for (const [i, result] of results.entries()) {
      // One token per character, template and system prompt included, within the generator's 1% tolerance.
      expect(Math.abs(result.promptTokens - result.targetTokens)).toBeLessThanOrEqual(0.01 * result.targetTokens);
      expect(backend.calls[2 * i].promptLength).toBe(result.promptTokens);
    }
    expect(results[0].actualDepth).toBeLessThan(0.2);
    expect(results[1].actualDepth).toBeGreaterThan(0.8);
  });

  it('scores answers and computes the speedup', async () => {
    const results = await runNeedleBenchmark(CONFIG, mockBackend());
    for (const result of results) {
      expect(result.expected).toMatch(/^[1-9]\d{6}$/);
      expect(result.dense).toMatchObject({ attention: 'dense', score: 1, prefillMs: 100, generatedTokens: 8 });
      expect(result.sparse).toMatchObject({ attention: 'anchor', score: 0, prefillMs: 40, answer: 'I do not know' });
      expect(result.speedup).toBeCloseTo(2.5, 12);
    }
    // Case i uses seed + i, so every case hides its own number.
    expect(new Set(results.map((result) => result.expected)).size).toBe(results.length);
  });

  it('reports progress before every run', async () => {
    const progress: [number, number, string][] = [];
    await runNeedleBenchmark({ ...CONFIG, lengths: [600], depths: [0.5] }, mockBackend(), { onProgress: (done, total, label) => progress.push([done, total, label]) });
    expect(progress).toEqual([
      [0, 2, '600 tokens, depth 0.5, dense'],
      [1, 2, '600 tokens, depth 0.5, anchor'],
      [2, 2, 'done'],
    ]);
  });

  it('returns the finished cases on abort', async () => {
    const controller = new AbortController();
    // Abort during the second case's sparse run.
    const backend = mockBackend(4096, () => {
      if (backend.calls.length === 4) controller.abort();
    });
    const streamed: NeedleCaseResult[] = [];
    const results = await runNeedleBenchmark(CONFIG, backend, { signal: controller.signal, onCase: (result) => streamed.push(result) });
    expect(results).toHaveLength(1);
    expect(streamed).toHaveLength(1);
    expect(backend.calls).toHaveLength(4);
  });

  it('propagates a backend failure', async () => {
    const backend = mockBackend();
    backend.answer = async () => {
      throw new Error('device lost');
    };
    await expect(runNeedleBenchmark(CONFIG, backend)).rejects.toThrow('device lost');
  });
});

describe('needleCases', () => {
  it('rejects a length that does not fit the context', () => {
    expect(() => needleCases({ ...CONFIG, lengths: [4090] }, 4096)).toThrow(/4090-token prompt and 9 new tokens need up to 4139 tokens, but the context length is 4096/);
  });

  it('rejects a depth outside [0, 1]', () => {
    expect(() => needleCases({ ...CONFIG, depths: [0.5, 1.5] }, 4096)).toThrow(/depth 1.5 must be within \[0, 1\]/);
  });

  it('rejects empty lists', () => {
    expect(() => needleCases({ ...CONFIG, lengths: [] }, 4096)).toThrow(/at least one length and one depth/);
  });
});
