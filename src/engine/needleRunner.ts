/**
 * Needle-in-a-haystack runs on the loaded model. Each (length, depth) case gets a prompt from
 * src/eval/needle.ts, sized with the model's tokenizer over the chat template. The model answers it
 * greedily twice from an empty KV cache, once with dense prefill and once with AnchorAttention
 * prefill, and each answer is scored by string match beside its prefill time.
 */
import type { AnchorParams, AttentionMode } from '../attention/types';
import { generateNeedlePrompt, scoreNeedle } from '../eval/needle';

export interface NeedleRunConfig {
  /** Prompt lengths in tokens, chat template included. */
  lengths: number[];
  /** Needle depths in [0, 1]. */
  depths: number[];
  /** Case i (lengths outer, depths inner) uses seed + i, so every case hides a different number. */
  seed: number;
  /** New tokens per answer; a 7-digit number takes about 7 tokens with the Qwen tokenizer. */
  maxNewTokens: number;
  /** Rows per chunk of the dense prefill; AnchorAttention chunks by its group size. */
  chunkSize: number;
  anchor: AnchorParams;
  /** System prompt of the chat template; empty for none. */
  system: string;
}

export interface NeedleMethodResult {
  attention: AttentionMode['kind'];
  /** The decoded answer, stop token excluded. */
  answer: string;
  score: 0 | 1;
  prefillMs: number;
  generatedTokens: number;
}

export interface NeedleCaseResult {
  /** Position of the case in the run, from 0. */
  index: number;
  targetTokens: number;
  /** Requested depth. */
  depth: number;
  /** Depth of the needle as placed (between whole filler sentences). */
  actualDepth: number;
  promptTokens: number;
  expected: string;
  dense: NeedleMethodResult;
  sparse: NeedleMethodResult;
  /** dense.prefillMs / sparse.prefillMs. */
  speedup: number;
}

/** The model operations the runner uses; tests pass a mock. */
export interface NeedleBackend {
  contextLength: number;
  /** Encodes one user message with the system prompt through the chat template, generation prompt included. */
  encodePrompt(system: string, userMessage: string): number[];
  /** Prefills `tokens` from an empty KV cache with `attention`, then decodes greedily. */
  answer(tokens: number[], options: { attention: AttentionMode; chunkSize: number; maxNewTokens: number; signal?: AbortSignal }): Promise<Omit<NeedleMethodResult, 'attention' | 'score'>>;
}

export interface NeedleRunHooks {
  onCase?: (result: NeedleCaseResult) => void;
  /** Called before each model run: `done` runs finished of `total`, and what runs next. */
  onProgress?: (done: number, total: number, label: string) => void;
  signal?: AbortSignal;
}

/** Lists the run's cases, lengths outer and depths inner, after checking the configuration. */
export function needleCases(config: NeedleRunConfig, contextLength: number): { targetTokens: number; depth: number }[] {
  const op = 'runNeedle';
  if (config.lengths.length === 0 || config.depths.length === 0) throw new Error(`${op}: choose at least one length and one depth`);
  if (!Number.isInteger(config.maxNewTokens) || config.maxNewTokens < 1) throw new Error(`${op}: maxNewTokens must be a positive integer, got ${config.maxNewTokens}`);
  if (!Number.isInteger(config.seed)) throw new Error(`${op}: seed must be an integer, got ${config.seed}`);
  for (const length of config.lengths) {
    if (!Number.isInteger(length) || length < 1) throw new Error(`${op}: length ${length} must be a positive integer`);
    // The generator may overshoot its target by 1%, and the answer needs room after the prompt.
    const needed = Math.floor(length * 1.01) + config.maxNewTokens;
    if (needed > contextLength) {
      throw new Error(`${op}: a ${length}-token prompt and ${config.maxNewTokens} new tokens need up to ${needed} tokens, but the context length is ${contextLength}; choose shorter lengths`);
    }
  }
  for (const depth of config.depths) {
    if (!(depth >= 0 && depth <= 1)) throw new Error(`${op}: depth ${depth} must be within [0, 1]`);
  }
  return config.lengths.flatMap((targetTokens) => config.depths.map((depth) => ({ targetTokens, depth })));
}

/**
 * Runs every case with dense prefill, then AnchorAttention prefill, and reports each case as it
 * finishes. Returns the finished cases; on abort it returns those finished before the abort.
 * NOTE: the first AnchorAttention run compiles its pipelines inside its prefill time.
 */
export async function runNeedleBenchmark(config: NeedleRunConfig, backend: NeedleBackend, hooks: NeedleRunHooks = {}): Promise<NeedleCaseResult[]> {
  const cases = needleCases(config, backend.contextLength);
  const results: NeedleCaseResult[] = [];
  const total = cases.length * 2;
  const modes: AttentionMode[] = [{ kind: 'dense' }, { kind: 'anchor', params: config.anchor }];

  try {
    for (const [index, { targetTokens, depth }] of cases.entries()) {
      hooks.signal?.throwIfAborted();
      const result = await runCase(config, backend, hooks, modes, { index, targetTokens, depth, total });
      results.push(result);
      hooks.onCase?.(result);
    }
  } catch (error) {
    if (hooks.signal?.aborted) return results;
    throw error;
  }
  hooks.onProgress?.(total, total, 'done');
  return results;
}

/** Builds one case's prompt and answers it with each attention mode in turn. */
async function runCase(
  config: NeedleRunConfig,
  backend: NeedleBackend,
  hooks: NeedleRunHooks,
  modes: AttentionMode[],
  { index, targetTokens, depth, total }: { index: number; targetTokens: number; depth: number; total: number },
): Promise<NeedleCaseResult> {
  const needle = generateNeedlePrompt({
    targetTokens,
    depth,
    seed: config.seed + index,
    countTokens: (text) => backend.encodePrompt(config.system, text).length,
  });
  const tokens = backend.encodePrompt(config.system, needle.prompt);

  const runs: NeedleMethodResult[] = [];
  for (const attention of modes) {
    hooks.onProgress?.(index * 2 + runs.length, total, `${targetTokens} tokens, depth ${depth}, ${attention.kind}`);
    const run = await backend.answer(tokens, { attention, chunkSize: config.chunkSize, maxNewTokens: config.maxNewTokens, signal: hooks.signal });
    hooks.signal?.throwIfAborted();
    runs.push({ attention: attention.kind, ...run, score: scoreNeedle(run.answer, needle.answer) });
  }
  const [dense, sparse] = runs;
  return {
    index,
    targetTokens,
    depth,
    actualDepth: needle.depth,
    promptTokens: tokens.length,
    expected: needle.answer,
    dense,
    sparse,
    speedup: sparse.prefillMs > 0 ? dense.prefillMs / sparse.prefillMs : NaN,
  };
}
