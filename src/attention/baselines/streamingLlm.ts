/**
 * StreamingLLM (Xiao et al., "Efficient Streaming Language Models with Attention Sinks", 2023) as a
 * prefill selection: row r computes the first `sinkTokens` keys and the `window` most recent keys
 * [r - window + 1, r]. It reads no scores, so it costs nothing to select.
 * Sweep knob: `window`.
 */
import { checkHeadInputs, SelectionWriter, type IntervalSelection } from '../metrics';
import { checkNonNegativeInteger, checkPositiveInteger } from './common';

export interface StreamingLlmOptions {
  /** Attention-sink tokens at the start of the sequence (4 in the paper). */
  sinkTokens: number;
  /** Recent keys per row, the diagonal included; at least 1. */
  window: number;
}

export function selectStreamingLlm(q: Float32Array, k: Float32Array, N: number, D: number, options: StreamingLlmOptions): IntervalSelection {
  checkHeadInputs('selectStreamingLlm', N, D, q, k);
  const { sinkTokens, window } = options;
  checkNonNegativeInteger('selectStreamingLlm', 'sinkTokens', sinkTokens);
  checkPositiveInteger('selectStreamingLlm', 'window', window);
  const writer = new SelectionWriter(N);
  for (let row = 0; row < N; row++) {
    writer.add(0, Math.min(sinkTokens, row + 1));
    writer.add(Math.max(0, row - window + 1), row + 1);
    writer.endRow();
  }
  return writer.finish();
}
