/**
 * State of the benchmark panel: needle-run settings and streamed results, Q/K/V capture export,
 * and the recall-versus-density curves shown (from a results file or computed from a capture).
 */
import type { BenchmarkRequest, BenchmarkResponse, HeadCurves, NeedleCaseResult } from '../engine/benchmarkProtocol';
import type { CompareResults } from '../eval/compareResults';
import { nextRequestId } from './conversationSlice';
import type { SliceCreator } from './types';

export type BenchmarkTaskKind = 'needle' | 'capture' | 'curves';

export interface BenchmarkProgress {
  done: number;
  total: number;
  label: string;
}

/** A capture file opened for the curve sweep, with the header fields the layer and head pickers need. */
export interface OpenedCapture {
  fileName: string;
  bytes: Uint8Array;
  layers: number[];
  numHeads: number;
  numTokens: number;
}

export interface BenchmarkSlice {
  /** Comma-separated prompt lengths in tokens, as typed. */
  needleLengthsText: string;
  /** Comma-separated needle depths in [0, 1], as typed. */
  needleDepthsText: string;
  needleSeed: number;
  needleMaxNewTokens: number;
  captureMaxTokens: number;
  /** Comma-separated layer indices to capture, as typed. */
  captureLayersText: string;
  captureDtype: 'f32' | 'f16';
  /** The request in flight, or null. */
  benchmarkTask: { kind: BenchmarkTaskKind; requestId: number } | null;
  benchmarkProgress: BenchmarkProgress | null;
  needleResults: NeedleCaseResult[];
  /** Outcome of the latest needle run. */
  needleStatus: 'idle' | 'running' | 'done' | 'stopped' | 'failed';
  /** The latest capture file, kept so that it can be saved again. */
  lastCapture: { fileName: string; bytes: Uint8Array; numTokens: number; layers: number[] } | null;
  /** Curves on show, from a results file or from a capture head. */
  curves: CompareResults | null;
  /** Index into curves.inputs of the input drawn. */
  curveInput: number;
  openedCapture: OpenedCapture | null;
  curveLayer: number;
  curveHead: number;
  curveMaxTokens: number;
  /** Problem with the panel's own inputs (a list that does not parse, an unreadable file). */
  benchmarkInputError: string | null;

  setNeedleLengthsText: (text: string) => void;
  setNeedleDepthsText: (text: string) => void;
  setNeedleSeed: (seed: number) => void;
  setNeedleMaxNewTokens: (count: number) => void;
  setCaptureMaxTokens: (count: number) => void;
  setCaptureLayersText: (text: string) => void;
  setCaptureDtype: (dtype: 'f32' | 'f16') => void;
  setCurveInput: (index: number) => void;
  setCurveLayer: (layer: number) => void;
  setCurveHead: (head: number) => void;
  setCurveMaxTokens: (count: number) => void;
  setBenchmarkInputError: (message: string | null) => void;
  showCurves: (curves: CompareResults) => void;
  openCaptureForCurves: (capture: OpenedCapture) => void;
  /** Builds the runNeedle request from the settings and marks it running; null (with an input error) when a list does not parse. */
  startNeedleRun: () => Extract<BenchmarkRequest, { type: 'runNeedle' }> | null;
  /** Builds a captureQkv request over `text`; null (with an input error) when the layer list does not parse. */
  startCapture: (text: string) => Extract<BenchmarkRequest, { type: 'captureQkv' }> | null;
  /** Builds a computeCurves request for the opened capture; null when none is open. */
  startCurves: () => Extract<BenchmarkRequest, { type: 'computeCurves' }> | null;
  applyBenchmarkMessage: (message: BenchmarkResponse) => void;
  /** Ends the task with `requestId` after an error message; returns whether it was a benchmark request. */
  failBenchmark: (requestId: number) => boolean;
}

/**
 * Parses a comma- or space-separated list of numbers. Throws an Error naming the first entry that
 * is not a number or fails `check`.
 */
export function parseNumberList(text: string, name: string, check: (value: number) => boolean, rule: string): number[] {
  const entries = text.split(/[\s,]+/).filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error(`Enter at least one ${name}.`);
  return entries.map((entry) => {
    const value = Number(entry.replace(/k$/i, '000'));
    if (!Number.isFinite(value) || !check(value)) throw new Error(`"${entry}" is not a valid ${name}: ${rule}.`);
    return value;
  });
}

export const createBenchmarkSlice: SliceCreator<BenchmarkSlice> = (set, get) => ({
  needleLengthsText: '1024, 2048, 4096',
  needleDepthsText: '0.1, 0.5, 0.9',
  needleSeed: 1,
  // A 7-digit number is 7 tokens with the Qwen tokenizer, which splits digits one by one.
  needleMaxNewTokens: 12,
  captureMaxTokens: 1024,
  captureLayersText: '0',
  captureDtype: 'f32',
  benchmarkTask: null,
  benchmarkProgress: null,
  needleResults: [],
  needleStatus: 'idle',
  lastCapture: null,
  curves: null,
  curveInput: 0,
  openedCapture: null,
  curveLayer: 0,
  curveHead: 0,
  curveMaxTokens: 1024,
  benchmarkInputError: null,

  setNeedleLengthsText: (needleLengthsText) => set({ needleLengthsText }),
  setNeedleDepthsText: (needleDepthsText) => set({ needleDepthsText }),
  setNeedleSeed: (needleSeed) => set({ needleSeed }),
  setNeedleMaxNewTokens: (needleMaxNewTokens) => set({ needleMaxNewTokens }),
  setCaptureMaxTokens: (captureMaxTokens) => set({ captureMaxTokens }),
  setCaptureLayersText: (captureLayersText) => set({ captureLayersText }),
  setCaptureDtype: (captureDtype) => set({ captureDtype }),
  setCurveInput: (curveInput) => set({ curveInput }),
  setCurveLayer: (curveLayer) => set({ curveLayer }),
  setCurveHead: (curveHead) => set({ curveHead }),
  setCurveMaxTokens: (curveMaxTokens) => set({ curveMaxTokens }),
  setBenchmarkInputError: (benchmarkInputError) => set({ benchmarkInputError }),
  showCurves: (curves) => set({ curves, curveInput: 0, benchmarkInputError: null }),
  openCaptureForCurves: (openedCapture) =>
    set({ openedCapture, curveLayer: openedCapture.layers[0], curveHead: 0, curveMaxTokens: Math.min(get().curveMaxTokens, openedCapture.numTokens), benchmarkInputError: null }),

  startNeedleRun: () => {
    const state = get();
    let lengths: number[];
    let depths: number[];
    try {
      lengths = parseNumberList(state.needleLengthsText, 'length', (value) => Number.isInteger(value) && value >= 1, 'lengths are whole token counts such as 1024 or 2k');
      depths = parseNumberList(state.needleDepthsText, 'depth', (value) => value >= 0 && value <= 1, 'depths are between 0 and 1');
    } catch (error) {
      set({ benchmarkInputError: (error as Error).message });
      return null;
    }
    const requestId = nextRequestId();
    const { anchorParams, chunkSize, systemPrompt, needleSeed, needleMaxNewTokens } = state;
    set({ benchmarkTask: { kind: 'needle', requestId }, benchmarkProgress: null, needleResults: [], needleStatus: 'running', benchmarkInputError: null });
    return {
      type: 'runNeedle',
      requestId,
      config: { lengths, depths, seed: needleSeed, maxNewTokens: needleMaxNewTokens, chunkSize, anchor: anchorParams, system: systemPrompt },
    };
  },

  startCapture: (text) => {
    const state = get();
    let layers: number[];
    try {
      layers = parseNumberList(state.captureLayersText, 'layer', (value) => Number.isInteger(value) && value >= 0, 'layers are indices from 0');
    } catch (error) {
      set({ benchmarkInputError: (error as Error).message });
      return null;
    }
    const requestId = nextRequestId();
    set({ benchmarkTask: { kind: 'capture', requestId }, benchmarkProgress: null, benchmarkInputError: null });
    return { type: 'captureQkv', requestId, text, maxTokens: state.captureMaxTokens, layers, dtype: state.captureDtype, chunkSize: state.chunkSize };
  },

  startCurves: () => {
    const { openedCapture, curveLayer, curveHead, curveMaxTokens } = get();
    if (!openedCapture) {
      set({ benchmarkInputError: 'Open a capture file first.' });
      return null;
    }
    const requestId = nextRequestId();
    set({ benchmarkTask: { kind: 'curves', requestId }, benchmarkProgress: null, benchmarkInputError: null });
    // The worker receives a copy, so the opened file stays usable for another head.
    return { type: 'computeCurves', requestId, bytes: openedCapture.bytes, layer: curveLayer, head: curveHead, maxTokens: curveMaxTokens, anchor: null };
  },

  applyBenchmarkMessage: (message) => {
    const task = get().benchmarkTask;
    if (message.requestId !== task?.requestId) return;
    switch (message.type) {
      case 'benchmarkProgress':
        set({ benchmarkProgress: { done: message.done, total: message.total, label: message.label } });
        return;
      case 'needleCase':
        set((state) => ({ needleResults: [...state.needleResults, message.result] }));
        return;
      case 'needleDone':
        set({ benchmarkTask: null, benchmarkProgress: null, needleStatus: message.aborted ? 'stopped' : 'done' });
        return;
      case 'qkvCapture':
        set({
          benchmarkTask: null,
          benchmarkProgress: null,
          lastCapture: { fileName: message.fileName, bytes: message.bytes, numTokens: message.numTokens, layers: message.layers },
        });
        return;
      case 'headCurves':
        set((state) => ({ benchmarkTask: null, benchmarkProgress: null, curves: { title: state.openedCapture?.fileName ?? 'capture', inputs: [message.curves] as HeadCurves[] }, curveInput: 0 }));
        return;
      case 'benchmarkAborted':
        set({ benchmarkTask: null, benchmarkProgress: null });
        return;
    }
  },

  failBenchmark: (requestId) => {
    const task = get().benchmarkTask;
    if (task?.requestId !== requestId) return false;
    set((state) => ({ benchmarkTask: null, benchmarkProgress: null, needleStatus: task.kind === 'needle' ? 'failed' : state.needleStatus }));
    return true;
  },
});
