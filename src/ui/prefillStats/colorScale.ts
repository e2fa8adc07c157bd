/** Colour scales of the per-head grid: a value maps into [0, 1] and then onto a perceptually ordered ramp. */
import type { HeadStats } from '../../engine/prefillStatsTypes';
import type { HeadMetric } from '../../store/prefillStatsSlice';

/** Stops of a viridis-like ramp from dark blue (0) to yellow (1). */
const RAMP: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Returns the ramp colour at t in [0, 1] as a CSS rgb() string. */
export function rampColor(t: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const position = clamped * (RAMP.length - 1);
  const index = Math.min(RAMP.length - 2, Math.floor(position));
  const f = position - index;
  const [r, g, b] = RAMP[index].map((channel, c) => Math.round(channel + f * (RAMP[index + 1][c] - channel)));
  return `rgb(${r}, ${g}, ${b})`;
}

export interface MetricScale {
  metric: HeadMetric;
  label: string;
  min: number;
  max: number;
  /** Log scale for ratios such as speedup. */
  log: boolean;
  /** The metric's value of a head, undefined when it was not measured. */
  value(head: HeadStats): number | undefined;
  format(value: number): string;
}

function range(values: number[], fallback: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return fallback;
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return min === max ? [min - 0.5 * Math.abs(min || 1) * 0.01, max + 0.5 * Math.abs(max || 1) * 0.01] : [min, max];
}

/** Builds the scale of `metric` over the heads shown, so that small differences stay visible. */
export function metricScale(metric: HeadMetric, heads: HeadStats[]): MetricScale {
  if (metric === 'density') {
    const [min, max] = range(heads.map((head) => head.density), [0, 1]);
    return { metric, label: 'Density (computed / causal pairs)', min: Math.min(min, 1), max: Math.min(1, max), log: false, value: (head) => head.density, format: (v) => v.toFixed(3) };
  }
  if (metric === 'recall') {
    const values = heads.map((head) => head.recallMean).filter((v): v is number => v !== undefined);
    const [min, max] = range(values, [0, 1]);
    return { metric, label: 'Attention-mass recall (mean of sampled rows)', min, max, log: false, value: (head) => head.recallMean, format: (v) => v.toFixed(4) };
  }
  const values = heads.map((head) => head.speedup).filter((v): v is number => v !== undefined && v > 0);
  const [min, max] = range(values, [0.5, 2]);
  return { metric, label: 'Speedup (dense time / AnchorAttention time, per head)', min, max, log: true, value: (head) => head.speedup, format: (v) => `${v.toFixed(2)}×` };
}

/** Position of `value` on the scale, in [0, 1]. */
export function scalePosition(scale: MetricScale, value: number): number {
  if (scale.log) {
    const low = Math.log(scale.min);
    const high = Math.log(scale.max);
    return high > low ? (Math.log(value) - low) / (high - low) : 0.5;
  }
  return scale.max > scale.min ? (value - scale.min) / (scale.max - scale.min) : 0.5;
}
