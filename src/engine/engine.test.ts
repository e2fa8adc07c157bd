import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, GenerationSettings, WorkerResponse } from './protocol';

/**
 * The tokenizer (a WebAssembly UMD bundle) and the GPU model cannot load in Node, so both are
 * replaced: the tokenizer maps each character to one token, and the model streams scripted ids.
 */
const modelState = vi.hoisted(() => ({ generateCalls: [] as { prompt: readonly number[]; maxNewTokens: number }[], resets: 0 }));

vi.mock('../tokenizer/tokenizer', () => ({
  TextTokenizer: {
    load: async () => ({
      encodeChat: (system: string, document: string, turns: { content: string }[]) =>
        Array.from(system + document + turns.map((turn) => turn.content).join(''), (char) => char.charCodeAt(0)),
      stopTokenIds: (ids: number[]) => [...ids, 0],
      detokenizer: () => {
        let text = '';
        return {
          push: (id: number) => {
            const delta = String.fromCharCode(id);
            text += delta;
            return delta;
          },
          flush: () => '',
          get text() {
            return text;
          },
        };
      },
      dispose: () => {},
    }),
  },
}));

vi.mock('../model/model', () => ({
  TransformerModel: {
    load: async () => ({
      config: { architecture: 'Qwen2ForCausalLM', numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8, hiddenSize: 32, vocabSize: 256, maxPositionEmbeddings: 64, eosTokenIds: [1] },
      contextLength: 64,
      cache: { dtype: 'f32' },
      cachedTokens: [],
      resetCache: () => {
        modelState.resets += 1;
      },
      dispose: () => {},
      generate: async (
        prompt: readonly number[],
        options: { maxNewTokens: number; onToken: (id: number) => void; onPrefillProgress?: (done: number, total: number) => void; signal?: AbortSignal },
      ) => {
        modelState.generateCalls.push({ prompt, maxNewTokens: options.maxNewTokens });
        options.onPrefillProgress?.(1, 1);
        const tokens: number[] = [];
        let stoppedBy: 'eos' | 'length' | 'abort' = 'length';
        for (const id of [72, 105, 1]) {
          if (options.signal?.aborted) {
            stoppedBy = 'abort';
            break;
          }
          tokens.push(id);
          options.onToken(id);
          if (id === 1) {
            stoppedBy = 'eos';
            break;
          }
          // A real delay between tokens, so a stop request can arrive mid-answer.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return { tokens, reusedTokens: 2, prefillTokens: prompt.length - 2, prefillMs: 4, timeToFirstTokenMs: 5, decodeMs: 2, decodeTokensPerSecond: 1000, stoppedBy };
      },
    }),
  },
}));

vi.mock('./probe', () => ({
  probeGpu: async (gpu: unknown) => {
    const { WebGpuUnavailableError } = await import('../gpu/errors');
    if (!gpu) throw new WebGpuUnavailableError('WebGPU is not available in this browser.');
    return { device: {}, adapterName: 'test adapter', features: { shaderF16: false, subgroups: false, timestampQuery: false }, limits: {}, lost: new Promise(() => {}) };
  },
  summarizeGpu: () => ({ adapterName: 'test adapter', features: { shaderF16: false, subgroups: false, timestampQuery: false }, maxStorageBufferBindingSize: 0, maxBufferSize: 0 }),
}));

vi.mock('../gpu/dispatch', () => ({ createRuntime: () => ({}) }));

// The memory check reads config.json over HTTP; here every model fits at the context asked for.
vi.mock('./memoryFit', () => ({
  DEFAULT_FIT_SETTINGS: {},
  describeMisfit: () => '',
  checkModelFit: async (_source: unknown, _limits: unknown, _fit: unknown, request: { contextLength?: number }) => ({
    report: { chosenContextLength: request.contextLength ?? 64 },
  }),
}));

const { Engine } = await import('./engine');

const settings: GenerationSettings = {
  attention: { kind: 'dense' },
  chunkSize: 16,
  sampling: { temperature: 0, topK: 0, topP: 1, seed: 1 },
  maxNewTokens: 100,
};

function conversation(document: string): Conversation {
  return { system: '', document, turns: [{ role: 'user', content: '?' }] };
}

function createEngine(hasGpu = true) {
  const messages: WorkerResponse[] = [];
  const gpu = hasGpu ? ({} as GPU) : undefined;
  const engine = new Engine((message) => messages.push(message), { gpu, origin: 'http://127.0.0.1' });
  return { engine, messages };
}

beforeEach(() => {
  modelState.generateCalls.length = 0;
  modelState.resets = 0;
});

describe('Engine', () => {
  it('reports a missing WebGPU as webgpu-unavailable', async () => {
    const { engine, messages } = createEngine(false);

    await engine.handle({ type: 'probe' });

    expect(messages).toEqual([{ type: 'error', kind: 'webgpu-unavailable', message: 'WebGPU is not available in this browser.', requestId: undefined }]);
  });

  it('rejects generate before a model is loaded', async () => {
    const { engine, messages } = createEngine();

    await engine.handle({ type: 'generate', requestId: 3, conversation: conversation('doc'), settings });

    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ type: 'error', kind: 'generate', requestId: 3 });
  });

  it('streams tokens and sends statistics', async () => {
    const { engine, messages } = createEngine();
    await engine.handle({ type: 'load', model: { kind: 'bundled', id: 'tiny' } });

    await engine.handle({ type: 'generate', requestId: 7, conversation: conversation('doc'), settings });

    // The stop token (id 1) ends the answer without adding text.
    const tokens = messages.filter((message) => message.type === 'token');
    expect(tokens.map((message) => message.text)).toEqual(['H', 'i']);
    const done = messages.find((message) => message.type === 'done');
    expect(done).toMatchObject({ requestId: 7, text: 'Hi', stats: { promptTokens: 4, reusedTokens: 2, prefillTokens: 2, stoppedBy: 'eos', generatedTokens: 3, prefillTokensPerSecond: 500 } });
    expect(messages.find((message) => message.type === 'loaded')).toMatchObject({ model: { contextLength: 64, kvDtype: 'f32', layers: 2 } });
    // The first call is the warm-up during load; maxNewTokens is then clipped to the room left in the 64-token context.
    expect(modelState.generateCalls).toHaveLength(2);
    expect(modelState.generateCalls[1].maxNewTokens).toBe(60);
  });

  it('rejects a prompt that fills the context', async () => {
    const { engine, messages } = createEngine();
    await engine.handle({ type: 'load', model: { kind: 'bundled', id: 'tiny' } });

    await engine.handle({ type: 'generate', requestId: 9, conversation: conversation('x'.repeat(63)), settings });

    // Only the warm-up during load reached the model.
    expect(modelState.generateCalls).toHaveLength(1);
    expect(messages.at(-1)).toMatchObject({ type: 'error', kind: 'too-long', requestId: 9 });
    expect((messages.at(-1) as { message: string }).message).toMatch(/are 64 tokens, but the context holds 64/);
  });

  it('counts prompt tokens against the context', async () => {
    const { engine, messages } = createEngine();
    await engine.handle({ type: 'load', model: { kind: 'bundled', id: 'tiny' } });

    await engine.handle({ type: 'countTokens', requestId: 4, conversation: conversation('abc') });

    expect(messages.at(-1)).toEqual({ type: 'tokenCount', requestId: 4, tokens: 4, contextLength: 64 });
  });

  it('stops a generation through its abort signal', async () => {
    const { engine, messages } = createEngine();
    await engine.handle({ type: 'load', model: { kind: 'bundled', id: 'tiny' } });

    const generation = engine.handle({ type: 'generate', requestId: 5, conversation: conversation('doc'), settings });
    await vi.waitFor(() => expect(messages.some((message) => message.type === 'token')).toBe(true), { interval: 5 });
    await engine.handle({ type: 'stop' });
    await generation;

    expect(messages.find((message) => message.type === 'done')).toMatchObject({ stats: { stoppedBy: 'abort' } });
  });

  it('clears the KV cache on reset', async () => {
    const { engine, messages } = createEngine();
    await engine.handle({ type: 'load', model: { kind: 'bundled', id: 'tiny' } });

    await engine.handle({ type: 'reset' });

    // The warm-up during load also empties the cache once.
    expect(modelState.resets).toBe(2);
    expect(messages.at(-1)).toEqual({ type: 'reset' });
  });

  it('answers an unknown request with a protocol error', async () => {
    const { engine, messages } = createEngine();

    // @ts-expect-error The request type is deliberately outside the protocol.
    await engine.handle({ type: 'explode' });

    expect(messages).toEqual([{ type: 'error', kind: 'protocol', message: 'Unknown request type "explode"' }]);
  });
});
