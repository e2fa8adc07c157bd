/**
 * Recall-versus-density curves of one attention head: every selection method of
 * src/attention/baselines/ and AnchorAttention's reference, each over its knob, scored with the
 * metric code of src/attention/metrics.ts (density, attention-mass recall over sampled rows, output
 * fidelity against dense). The knobs and sizes follow bench/compare-run.ts's sweepConfig, so a head
 * swept here is comparable with the curves that bench/compare.ts records.
 */
import { selectFlexPrefill } from '../attention/baselines/flexPrefill';
import { selectOracle } from '../attention/baselines/oracle';
import { selectStreamingLlm } from '../attention/baselines/streamingLlm';
import { selectVerticalSlash } from '../attention/baselines/verticalSlash';
import { selectXAttention } from '../attention/baselines/xattention';
import { readCapture } from '../attention/capture';
import { attentionRecall, denseCausalSelection, outputFidelity, sampleRows, selectionDensity, sparseAttentionFromSelection } from '../attention/metrics';
import { anchorAttentionReference } from '../attention/reference';
import type { AnchorParams, Selection } from '../attention/types';

export type CurveMethod = 'dense' | 'streaming-llm' | 'vertical-slash' | 'flexprefill' | 'xattention' | 'oracle' | 'anchor';

export const CURVE_METHODS: readonly CurveMethod[] = ['dense', 'streaming-llm', 'vertical-slash', 'flexprefill', 'xattention', 'oracle', 'anchor'];

/** One knob setting of one method; the same fields as bench/compare.ts's curve points. */
export interface CurvePoint {
  method: CurveMethod;
  knob: number | null;
  /** Computed (row, key) pairs over causal pairs. */
  density: number;
  recallMean: number;
  recallP5: number;
  /** ||out - dense|| / ||dense|| over the head's rows. */
  relativeL2: number;
  cosine: number;
}

/** Curves of one input: a benchmark input from a results file, or one head of a capture. */
export interface HeadCurves {
  /** Short title, such as "capture.qkv layer 3 head 5" or a results file's input name. */
  name: string;
  description: string;
  N: number;
  points: CurvePoint[];
}

export interface HeadSweepConfig {
  /** Query and key block size of FlexPrefill and XAttention. */
  blockSize: number;
  /** AnchorAttention's parameters except theta, which is swept. */
  anchor: Omit<AnchorParams, 'theta'>;
  recallRows: { last: number; random: number; seed: number };
  knobs: Record<Exclude<CurveMethod, 'dense'>, number[]>;
  /** FlexPrefill's pattern threshold tau. */
  flexTau: number;
  streamingSinkTokens: number;
}

function powerOfTwoBelow(x: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, x)));
}

/**
 * Sweep settings for N tokens, as bench/compare-run.ts chooses them: blocks of N/16 (at least 16)
 * and AnchorAttention groups of G = N/8 (b = G/4, s = 4), so every method gets 8 to 16 blocks.
 */
export function headSweepConfig(N: number): HeadSweepConfig {
  const G = Math.max(16, powerOfTwoBelow(N / 8));
  return {
    blockSize: Math.max(16, powerOfTwoBelow(N / 16)),
    anchor: { blockSize: G / 4, step: 4, initGroups: 1, localGroups: 1, denseLastGroup: false },
    recallRows: { last: 32, random: 96, seed: 1 },
    knobs: {
      'streaming-llm': [16, 32, 64, 128, 256, 512].filter((window) => window < N),
      'vertical-slash': [8, 16, 32, 64, 128, 256].filter((budget) => budget < N),
      flexprefill: [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995],
      xattention: [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995],
      oracle: [2, 4, 6, 8, 10, 14],
      anchor: [0, 1, 2, 3, 4, 6, 8, 12],
    },
    flexTau: 0.1,
    streamingSinkTokens: 4,
  };
}

/** One head's inputs, [N, D] f32 each. */
export interface HeadInput {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  N: number;
  D: number;
}

/**
 * Extracts query head `head` of layer `layer` and its KV head (head / (H / Hkv)) from a capture
 * file, keeping the first maxTokens tokens.
 */
export function captureHead(bytes: Uint8Array, layer: number, head: number, maxTokens: number): HeadInput & { description: string } {
  const { header, layers } = readCapture(bytes);
  const entry = layers.find((candidate) => candidate.layer === layer);
  if (!entry) throw new Error(`captureHead: layer ${layer} is not in the capture; it has layers ${header.layers.join(', ')}`);
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = header;
  if (!Number.isInteger(head) || head < 0 || head >= H) throw new Error(`captureHead: head ${head} is outside 0 .. ${H - 1}`);
  if (!Number.isInteger(maxTokens) || maxTokens < 2) throw new Error(`captureHead: maxTokens must be an integer >= 2, got ${maxTokens}`);
  const N = Math.min(header.numTokens, maxTokens);
  const kvHead = Math.floor(head / (H / Hkv));
  const slice = (x: Float32Array, heads: number, h: number) => {
    const out = new Float32Array(N * D);
    for (let t = 0; t < N; t++) out.set(x.subarray((t * heads + h) * D, (t * heads + h + 1) * D), t * D);
    return out;
  };
  return {
    q: slice(entry.q, H, head),
    k: slice(entry.k, Hkv, kvHead),
    v: slice(entry.v, Hkv, kvHead),
    N,
    D,
    description: `${header.model}, layer ${layer}, query head ${head} (KV head ${kvHead}), first ${N} of ${header.numTokens} tokens, ${header.dtype}`,
  };
}

export interface HeadSweepHooks {
  /** Called before each point with the points done and the total. */
  onProgress?: (done: number, total: number, label: string) => void;
  signal?: AbortSignal;
}

/** Lets queued worker messages (a stop request) run between points. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Sweeps every method's knob over one head and scores each point. Yields to the event loop between
 * points, so an abort through `signal` takes effect within one point's work.
 */
export async function sweepHead(input: HeadInput, config: HeadSweepConfig, hooks: HeadSweepHooks = {}): Promise<CurvePoint[]> {
  const { q, k, v, N, D } = input;
  const rows = sampleRows(N, config.recallRows);
  const denseOut = sparseAttentionFromSelection(q, k, v, N, D, denseCausalSelection(N));

  const score = (method: CurveMethod, knob: number | null, selection: Selection, out?: Float32Array): CurvePoint => {
    const density = selectionDensity(selection);
    const recall = attentionRecall(q, k, N, D, selection, rows);
    const fidelity = outputFidelity(out ?? sparseAttentionFromSelection(q, k, v, N, D, selection), denseOut);
    return {
      method,
      knob,
      density: density.computedPairs / density.causalPairs,
      recallMean: recall.mean,
      recallP5: recall.p5,
      relativeL2: fidelity.relativeL2,
      cosine: fidelity.cosine,
    };
  };

  const shape = { numHeads: 1, numKvHeads: 1, headDim: D };
  const tasks: { method: CurveMethod; knob: number | null; run: () => CurvePoint }[] = [
    { method: 'dense', knob: null, run: () => score('dense', null, denseCausalSelection(N), denseOut) },
    ...config.knobs['streaming-llm'].map((window) => ({
      method: 'streaming-llm' as const,
      knob: window,
      run: () => score('streaming-llm', window, selectStreamingLlm(q, k, N, D, { sinkTokens: config.streamingSinkTokens, window })),
    })),
    ...config.knobs['vertical-slash'].map((budget) => ({
      method: 'vertical-slash' as const,
      knob: budget,
      run: () => score('vertical-slash', budget, selectVerticalSlash(q, k, N, D, { verticalBudget: budget, slashBudget: budget })),
    })),
    ...config.knobs.flexprefill.map((gamma) => ({
      method: 'flexprefill' as const,
      knob: gamma,
      run: () => score('flexprefill', gamma, selectFlexPrefill(q, k, N, D, { gamma, tau: config.flexTau, blockSize: config.blockSize })),
    })),
    ...config.knobs.xattention.map((threshold) => ({
      method: 'xattention' as const,
      knob: threshold,
      run: () => score('xattention', threshold, selectXAttention(q, k, N, D, { threshold, blockSize: config.blockSize })),
    })),
    ...config.knobs.oracle.map((theta) => ({ method: 'oracle' as const, knob: theta, run: () => score('oracle', theta, selectOracle(q, k, N, D, { theta })) })),
    ...config.knobs.anchor.map((theta) => ({
      method: 'anchor' as const,
      knob: theta,
      run: () => {
        const result = anchorAttentionReference(q, k, v, N, shape, { ...config.anchor, theta });
        return score('anchor', theta, result.selection[0], result.out);
      },
    })),
  ];

  const points: CurvePoint[] = [];
  for (const [index, task] of tasks.entries()) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.(index, tasks.length, `${task.method}${task.knob === null ? '' : ` ${task.knob}`}`);
    await yieldToEventLoop();
    hooks.signal?.throwIfAborted();
    points.push(task.run());
  }
  hooks.onProgress?.(tasks.length, tasks.length, 'done');
  return points;
}
