import { CURVE_METHODS, type CurveMethod, type HeadCurves } from '../eval/headCurves';

/** One colour per method, the same as bench/compare-report.ts's plots. */
export const METHOD_COLORS: Record<CurveMethod, string> = {
  dense: '#000000',
  'streaming-llm': '#8c564b',
  'vertical-slash': '#9467bd',
  flexprefill: '#1f77b4',
  xattention: '#2ca02c',
  oracle: '#7f7f7f',
  anchor: '#d62728',
};

const WIDTH = 560;
const HEIGHT = 340;
const MARGIN = { left: 56, right: 16, top: 16, bottom: 72 };
const TICKS = 5;

/** Returns the lowest recall drawn: the smallest recall of any point rounded down to 0.1, at most 0.9. */
export function recallFloor(curves: HeadCurves): number {
  const lowest = Math.min(...curves.points.map((point) => point.recallMean), 0.9);
  return Math.max(0, Math.floor(lowest * 10) / 10);
}

/**
 * Mean attention-mass recall (y) against density (x, 0 to 1) for every method of one input, one
 * polyline through each method's knob points sorted by density, with axis labels and a legend.
 */
export function CurveChart({ curves }: { curves: HeadCurves }) {
  const floor = recallFloor(curves);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (density: number) => MARGIN.left + Math.min(1, Math.max(0, density)) * plotWidth;
  const y = (recall: number) => MARGIN.top + plotHeight - ((Math.min(1, Math.max(floor, recall)) - floor) / (1 - floor)) * plotHeight;
  const methods = CURVE_METHODS.filter((method) => curves.points.some((point) => point.method === method));
  const ticks = Array.from({ length: TICKS }, (_, i) => i / (TICKS - 1));

  return (
    <svg
      className="curve-chart"
      data-testid="curve-chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={`Mean recall against density for ${curves.name}`}
      fontSize="11"
      fontFamily="sans-serif"
    >
      <rect x={MARGIN.left} y={MARGIN.top} width={plotWidth} height={plotHeight} fill="none" stroke="#999" />
      {ticks.map((share) => {
        const recall = floor + share * (1 - floor);
        return (
          <g key={share}>
            <line x1={x(share)} y1={MARGIN.top + plotHeight} x2={x(share)} y2={MARGIN.top + plotHeight + 4} stroke="#999" />
            <text x={x(share)} y={MARGIN.top + plotHeight + 16} textAnchor="middle">
              {share.toFixed(2)}
            </text>
            <line x1={MARGIN.left - 4} y1={y(recall)} x2={MARGIN.left} y2={y(recall)} stroke="#999" />
            <text x={MARGIN.left - 6} y={y(recall) + 4} textAnchor="end">
              {recall.toFixed(3)}
            </text>
          </g>
        );
      })}
      <text x={MARGIN.left + plotWidth / 2} y={MARGIN.top + plotHeight + 32} textAnchor="middle" data-testid="curve-x-label">
        density (computed pairs / causal pairs)
      </text>
      <text
        x={14}
        y={MARGIN.top + plotHeight / 2}
        textAnchor="middle"
        transform={`rotate(-90 14 ${MARGIN.top + plotHeight / 2})`}
        data-testid="curve-y-label"
      >
        mean attention recall
      </text>

      {methods.map((method) => {
        const series = curves.points.filter((point) => point.method === method).sort((a, b) => a.density - b.density);
        const coordinates = series.map((point) => `${x(point.density).toFixed(1)},${y(point.recallMean).toFixed(1)}`);
        return (
          <g key={method} data-testid={`curve-${method}`} data-points={series.length}>
            {series.length > 1 && <polyline points={coordinates.join(' ')} fill="none" stroke={METHOD_COLORS[method]} strokeWidth={1.5} />}
            {series.map((point, index) => (
              <circle key={index} cx={x(point.density)} cy={y(point.recallMean)} r={2.5} fill={METHOD_COLORS[method]}>
                <title>{`${method}${point.knob === null ? '' : ` knob ${point.knob}`}: density ${point.density.toFixed(3)}, recall ${point.recallMean.toFixed(4)}`}</title>
              </circle>
            ))}
          </g>
        );
      })}

      <g data-testid="curve-legend">
        {methods.map((method, index) => {
          const column = index % 4;
          const row = Math.floor(index / 4);
          const lx = MARGIN.left + column * 125;
          const ly = HEIGHT - 22 + row * 14 - (methods.length > 4 ? 8 : 0);
          return (
            <g key={method}>
              <line x1={lx} y1={ly} x2={lx + 18} y2={ly} stroke={METHOD_COLORS[method]} strokeWidth={2} />
              <text x={lx + 22} y={ly + 4}>
                {method}
              </text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}
