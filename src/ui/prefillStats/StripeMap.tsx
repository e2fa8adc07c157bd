import { useEffect, useRef } from 'react';
import type { AnchorPrefillStats } from '../../engine/prefillStatsTypes';
import { formatCount } from '../format';
import { STRIPE_COLORS, renderStripeMap } from './stripeImage';

/** Pixel columns of the map: at most one per key, so a short prompt is not stretched. */
const MAX_BINS = 640;
/** Pixel rows per query group. */
const MIN_ROW_HEIGHT = 6;
const TARGET_HEIGHT = 240;

const LEGEND: [keyof typeof STRIPE_COLORS, string][] = [
  ['init', 'init region'],
  ['local', 'local region'],
  ['stripe', 'selected stripes'],
  ['dense', 'dense chunk'],
];

function rgb(color: readonly number[]): string {
  return `rgb(${color.join(', ')})`;
}

/** Draws a head's stripe map: query groups (rows) × key positions (columns). */
export function StripeMap({ stats, layer, head, totalKeys }: { stats: AnchorPrefillStats; layer: number; head: number; totalKeys: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const bins = Math.max(1, Math.min(MAX_BINS, totalKeys));
  const rowHeight = Math.max(MIN_ROW_HEIGHT, Math.floor(TARGET_HEIGHT / Math.max(1, stats.chunks.length)));

  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const lists = stats.stripes[layer]?.[head] ?? [];
    context.putImageData(renderStripeMap(stats.chunks, lists, totalKeys, bins, rowHeight), 0, 0);
  }, [stats, layer, head, totalKeys, bins, rowHeight]);

  const firstGroup = stats.chunks[0] ? Math.floor(stats.chunks[0].start / stats.groupSize) : 0;
  return (
    <figure className="stripe-map" data-testid="stripe-map">
      <figcaption>
        Stripe map of layer {layer}, head {head}: {formatCount(totalKeys)} keys in {bins} columns of {(totalKeys / bins).toFixed(1)} keys; each column
        shows the share of its keys each group computed.
      </figcaption>
      <div className="stripe-map-body">
        <span className="axis-label stripe-map-y">query group ({firstGroup} at top)</span>
        <canvas ref={canvas} width={bins} height={stats.chunks.length * rowHeight} data-testid="stripe-map-canvas" />
      </div>
      <div className="stripe-map-x axis-label">
        <span>key 0</span>
        <span>key position →</span>
        <span>key {formatCount(totalKeys - 1)}</span>
      </div>
      <ul className="stripe-map-legend">
        {LEGEND.map(([kind, label]) => (
          <li key={kind}>
            <span className="swatch" style={{ background: rgb(STRIPE_COLORS[kind]) }} />
            {label}
          </li>
        ))}
      </ul>
    </figure>
  );
}
