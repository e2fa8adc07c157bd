import { rampColor, type MetricScale } from './colorScale';

/** Draws the grid's colour scale: a gradient bar with its end values and midpoint. */
export function ColorLegend({ scale }: { scale: MetricScale }) {
  const stops = Array.from({ length: 11 }, (_, i) => `${rampColor(i / 10)} ${i * 10}%`).join(', ');
  const middle = scale.log ? Math.sqrt(scale.min * scale.max) : (scale.min + scale.max) / 2;
  return (
    <figure className="color-legend" data-testid="color-legend">
      <figcaption>{scale.label}</figcaption>
      <div className="color-legend-bar" style={{ background: `linear-gradient(to right, ${stops})` }} />
      <div className="color-legend-ticks">
        <span>{scale.format(scale.min)}</span>
        <span>
          {scale.format(middle)}
          {scale.log ? ' (log scale)' : ''}
        </span>
        <span>{scale.format(scale.max)}</span>
      </div>
      <span className="hint">The scale spans the values of the heads shown.</span>
    </figure>
  );
}
