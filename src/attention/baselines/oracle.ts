/**
 * Oracle selection: row r keeps exactly the keys whose true score is within `theta` nats of the
 * row's maximum, s(r, j) >= max_j' s(r, j') - theta. It reads every score, so it cannot save work.
 * It serves as the upper reference: for each theta, the recall and density of a per-row threshold
 * on the true scores, which the selection rules approximate from estimates.
 * Sweep knob: `theta` (+Infinity keeps every causal key).
 */
import { causalRowScores, checkHeadInputs, SelectionWriter, type IntervalSelection } from '../metrics';

export interface OracleOptions {
  /** Nats below the row maximum that a key may score and still be kept; >= 0. */
  theta: number;
}

export function selectOracle(q: Float32Array, k: Float32Array, N: number, D: number, options: OracleOptions): IntervalSelection {
  checkHeadInputs('selectOracle', N, D, q, k);
  const { theta } = options;
  if (!(theta >= 0)) throw new Error(`selectOracle: theta = ${theta} must be >= 0`);
  const scores = new Float64Array(N);
  const writer = new SelectionWriter(N);
  for (let row = 0; row < N; row++) {
    const floor = causalRowScores(q, k, D, row, scores) - theta;
    // Runs of consecutive kept keys become one interval each.
    let runStart = -1;
    for (let j = 0; j <= row; j++) {
      const kept = scores[j] >= floor;
      if (kept && runStart < 0) runStart = j;
      if (!kept && runStart >= 0) {
        writer.add(runStart, j);
        runStart = -1;
      }
    }
    if (runStart >= 0) writer.add(runStart, row + 1);
    writer.endRow();
  }
  return writer.finish();
}
