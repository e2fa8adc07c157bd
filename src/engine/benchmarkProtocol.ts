/**
 * Messages of the benchmark panel, part of the worker protocol's unions: Q/K/V capture export,
 * needle-in-a-haystack runs of dense against AnchorAttention prefill, and recall-versus-density
 * curves computed from a capture file.
 */
import type { AnchorParams } from '../attention/types';
import type { HeadCurves } from '../eval/headCurves';
import type { NeedleCaseResult, NeedleRunConfig } from './needleRunner';

export type { HeadCurves } from '../eval/headCurves';
export type { NeedleCaseResult, NeedleRunConfig } from './needleRunner';

export type BenchmarkRequest =
  /** Prefills `text` (plain, no chat template) densely, at most maxTokens tokens, and responds with `qkvCapture`. */
  | { type: 'captureQkv'; requestId: number; text: string; maxTokens: number; layers: number[]; dtype: 'f32' | 'f16'; chunkSize: number }
  /** Runs every (length, depth) case with dense and AnchorAttention prefill; responds with `needleCase` per case, then `needleDone`. */
  | { type: 'runNeedle'; requestId: number; config: NeedleRunConfig }
  /**
   * Sweeps every selection method over one head of a capture file; responds with `benchmarkProgress` per point, then `headCurves`.
   * `anchor` sets AnchorAttention's fixed parameters; null uses headSweepConfig's groups of N/8 rows, as bench/compare.ts does.
   */
  | { type: 'computeCurves'; requestId: number; bytes: Uint8Array; layer: number; head: number; maxTokens: number; anchor: Omit<AnchorParams, 'theta'> | null }
  /** Aborts the running needle run, capture or curve sweep. */
  | { type: 'stopBenchmark' };

export type BenchmarkResponse =
  | { type: 'qkvCapture'; requestId: number; bytes: Uint8Array; fileName: string; numTokens: number; layers: number[] }
  | { type: 'benchmarkProgress'; requestId: number; done: number; total: number; label: string }
  | { type: 'needleCase'; requestId: number; result: NeedleCaseResult }
  | { type: 'needleDone'; requestId: number; aborted: boolean }
  | { type: 'headCurves'; requestId: number; curves: HeadCurves }
  /** A capture or curve sweep ended early on `stopBenchmark`. */
  | { type: 'benchmarkAborted'; requestId: number };
