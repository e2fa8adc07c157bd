/**
 * Knob sweeps of every method over one input, scored with the shared metric code: density, mean and
 * 5th-percentile attention-mass recall over sampled rows, and relative L2 of the output against dense.
 * Each method selects per query head on that head's q and its KV head's k; AnchorAttention runs its
 * reference over all heads at once.
 */
import { headSlice } from '../src/attention/blockSparse';
import { selectFlexPrefill } from '../src/attention/baselines/flexPrefill';
import { selectOracle } from '../src/attention/baselines/oracle';
import { selectStreamingLlm } from '../src/attention/baselines/streamingLlm';
import { selectVerticalSlash } from '../src/attention/baselines/verticalSlash';
import { selectXAttention } from '../src/attention/baselines/xattention';
import {
  attentionRecall,
  denseCausalSelection,
  outputFidelity,
  percentile,
  sampleRows,
  selectionDensity,
  sparseAttentionFromSelection,
  type BlockMask,
} from '../src/attention/metrics';
import { anchorAttentionReference, denseAttentionReference } from '../src/attention/reference';
import type { AnchorParams, Selection } from '../src/attention/types';
import type { BenchInput } from './compare-inputs';

export type MethodName = 'dense' | 'streaming-llm' | 'vertical-slash' | 'flexprefill' | 'xattention' | 'oracle' | 'anchor';

export interface SweepConfig {
  /** Query and key block size of FlexPrefill and XAttention. */
  blockSize: number;
  /** AnchorAttention's parameters except theta, which is swept. */
  anchor: Omit<AnchorParams, 'theta'>;
  /** Rows sampled per head for recall: the last `last` rows plus `random` others. */
  recallRows: { last: number; random: number; seed: number };
  knobs: Record<Exclude<MethodName, 'dense'>, number[]>;
  /** FlexPrefill's pattern threshold tau (not swept). */
  flexTau: number;
  streamingSinkTokens: number;
}

/** Knob values sized for prompts of about 1k tokens. */
export function defaultKnobs(N: number): SweepConfig['knobs'] {
  const windows = [16, 32, 64, 128, 256, 512].filter((w) => w < N);
  return {
    'streaming-llm': windows,
    'vertical-slash': [8, 16, 32, 64, 128, 256].filter((budget) => budget < N),
    flexprefill: [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995],
    xattention: [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995],
    oracle: [2, 4, 6, 8, 10, 14],
    anchor: [0, 1, 2, 3, 4, 6, 8, 12],
  };
}

/** Name of each method's knob, for tables. */
export const KNOB_NAMES: Record<MethodName, string> = {
  dense: '-',
  'streaming-llm': 'window',
  'vertical-slash': 'budget (vertical = slash)',
  flexprefill: 'gamma',
  xattention: 'threshold',
  oracle: 'theta',
  anchor: 'theta',
};

export interface CurvePoint {
  method: MethodName;
  knob: number | null;
  /** Computed pairs over causal pairs, summed over heads. */
  density: number;
  /** Stripe pairs over causal pairs (AnchorAttention only). */
  stripeShare?: number;
  recallMean: number;
  recallP5: number;
  /** ||out - dense|| / ||dense|| over all heads and rows. */
  relativeL2: number;
  cosine: number;
  /** Per head, the block mask of block methods (FlexPrefill, XAttention), for the block-sparse kernel. */
  blockMasks?: BlockMask[];
  /** FlexPrefill's pattern per head. */
  patterns?: string[];
  /** Seconds the CPU spent selecting and scoring this point. */
  seconds: number;
}

interface HeadData {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

function headsOf(input: BenchInput): HeadData[] {
  const { N, shape } = input;
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  return Array.from({ length: H }, (_, h) => {
    const kvh = Math.floor(h / (H / Hkv));
    return { q: headSlice(input.q, N, H, D, h), k: headSlice(input.k, N, Hkv, D, kvh), v: headSlice(input.v, N, Hkv, D, kvh) };
  });
}

/** Scores per-head selections; `out` is the method's [N, H, D] output when it computes its own. */
function scorePoint(
  input: BenchInput,
  heads: HeadData[],
  rows: Int32Array,
  denseOut: Float32Array,
  selections: Selection[],
  out?: Float32Array,
): Pick<CurvePoint, 'density' | 'recallMean' | 'recallP5' | 'relativeL2' | 'cosine'> {
  const { N, shape } = input;
  const { numHeads: H, headDim: D } = shape;
  let computed = 0;
  let causal = 0;
  const recalls: number[] = [];
  let output = out;
  if (!output) output = new Float32Array(N * H * D);
  heads.forEach((head, h) => {
    const density = selectionDensity(selections[h]);
    computed += density.computedPairs;
    causal += density.causalPairs;
    recalls.push(...attentionRecall(head.q, head.k, N, D, selections[h], rows).perRow);
    if (!out) {
      const headOut = sparseAttentionFromSelection(head.q, head.k, head.v, N, D, selections[h]);
      for (let t = 0; t < N; t++) output.set(headOut.subarray(t * D, (t + 1) * D), (t * H + h) * D);
    }
  });
  const fidelity = outputFidelity(output, denseOut);
  const mean = recalls.reduce((sum, value) => sum + value, 0) / recalls.length;
  return { density: computed / causal, recallMean: mean, recallP5: percentile(recalls, 0.05), relativeL2: fidelity.relativeL2, cosine: fidelity.cosine };
}

/** Runs every method's sweep over one input; `log` receives one line per finished method. */
export function sweepInput(input: BenchInput, config: SweepConfig, log: (line: string) => void = () => {}): CurvePoint[] {
  const { N, shape } = input;
  const D = shape.headDim;
  const heads = headsOf(input);
  const rows = sampleRows(N, config.recallRows);
  const denseOut = denseAttentionReference(input.q, input.k, input.v, N, shape);
  const points: CurvePoint[] = [];

  const perHead = (method: MethodName, knob: number | null, select: (head: HeadData) => Selection & { blockMask?: BlockMask; pattern?: string }) => {
    const started = performance.now();
    const selections = heads.map(select);
    const scored = scorePoint(input, heads, rows, denseOut, selections);
    const blockMasks = selections.every((selection) => selection.blockMask) ? selections.map((selection) => selection.blockMask!) : undefined;
    const patterns = selections.every((selection) => selection.pattern) ? selections.map((selection) => selection.pattern!) : undefined;
    points.push({ method, knob, ...scored, blockMasks, patterns, seconds: (performance.now() - started) / 1000 });
  };
  const timed = (method: MethodName, run: () => void) => {
    const started = performance.now();
    run();
    log(`  ${input.name}: ${method} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };

  timed('dense', () => perHead('dense', null, () => denseCausalSelection(N)));
  timed('streaming-llm', () => {
    for (const window of config.knobs['streaming-llm']) {
      perHead('streaming-llm', window, (head) => selectStreamingLlm(head.q, head.k, N, D, { sinkTokens: config.streamingSinkTokens, window }));
    }
  });
  timed('vertical-slash', () => {
    for (const budget of config.knobs['vertical-slash']) {
      perHead('vertical-slash', budget, (head) => selectVerticalSlash(head.q, head.k, N, D, { verticalBudget: budget, slashBudget: budget }));
    }
  });
  timed('flexprefill', () => {
    for (const gamma of config.knobs.flexprefill) {
      perHead('flexprefill', gamma, (head) => selectFlexPrefill(head.q, head.k, N, D, { gamma, tau: config.flexTau, blockSize: config.blockSize }));
    }
  });
  timed('xattention', () => {
    for (const threshold of config.knobs.xattention) {
      perHead('xattention', threshold, (head) => selectXAttention(head.q, head.k, N, D, { threshold, blockSize: config.blockSize }));
    }
  });
  timed('oracle', () => {
    for (const theta of config.knobs.oracle) perHead('oracle', theta, (head) => selectOracle(head.q, head.k, N, D, { theta }));
  });
  timed('anchor', () => {
    for (const theta of config.knobs.anchor) {
      const started = performance.now();
      const params: AnchorParams = { ...config.anchor, theta };
      const result = anchorAttentionReference(input.q, input.k, input.v, N, shape, params);
      const scored = scorePoint(input, heads, rows, denseOut, result.selection, result.out);
      // Stripe pairs: each anchor row of group g computes the group's stripe count for its head.
      let stripePairs = 0;
      result.selected.forEach((group, g) => {
        if (result.plans[g] !== 'anchor') return;
        const groupRows = Math.min(N, (g + 1) * config.anchor.blockSize * config.anchor.step) - g * config.anchor.blockSize * config.anchor.step;
        for (const stripes of group) stripePairs += stripes.length * groupRows;
      });
      const causalPairs = ((N * (N + 1)) / 2) * shape.numHeads;
      points.push({ method: 'anchor', knob: theta, ...scored, stripeShare: stripePairs / causalPairs, seconds: (performance.now() - started) / 1000 });
    }
  });
  return points;
}

/**
 * The point of `method` whose mean recall is closest to `target`, preferring the sparser point on
 * a tie; undefined when the method has no point.
 */
export function matchedPoint(points: CurvePoint[], method: MethodName, target: number): CurvePoint | undefined {
  let best: CurvePoint | undefined;
  for (const point of points) {
    if (point.method !== method) continue;
    const gap = Math.abs(point.recallMean - target);
    const bestGap = best ? Math.abs(best.recallMean - target) : Infinity;
    if (gap < bestGap || (gap === bestGap && best && point.density < best.density)) best = point;
  }
  return best;
}
