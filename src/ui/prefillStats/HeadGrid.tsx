import { useState, type KeyboardEvent } from 'react';
import type { AnchorPrefillStats, HeadStats } from '../../engine/prefillStatsTypes';
import { formatMs } from '../format';
import { rampColor, scalePosition, type MetricScale } from './colorScale';

const CELL = 22;
const GAP = 2;
const AXIS = 44;

interface HeadGridProps {
  stats: AnchorPrefillStats;
  scale: MetricScale;
  selected: { layer: number; head: number } | null;
  onOpen: (cell: { layer: number; head: number }) => void;
}

/** Outlines the open head in the accent colour and the keyboard focus in the text colour. */
function cellOutline(isSelected: boolean, isFocus: boolean): string {
  if (isSelected) return 'var(--accent)';
  return isFocus ? 'var(--text)' : 'none';
}

function describe(head: HeadStats): string[] {
  const lines = [
    `density ${head.density.toFixed(4)} (stripes ${head.stripeShare.toFixed(4)}), ${head.stripes.toLocaleString('en-US')} stripe keys`,
    `work bound ${head.workBound.toFixed(2)}×`,
  ];
  if (head.recallMean !== undefined) lines.push(`recall mean ${head.recallMean.toFixed(4)}, p5 ${head.recallP5!.toFixed(4)}`);
  if (head.relativeL2 !== undefined) lines.push(`relative L2 vs dense ${head.relativeL2.toExponential(2)}`);
  if (head.anchorMs !== undefined) {
    const split = head.selectMs !== undefined ? ` (selection ${formatMs(head.selectMs)}, sparse ${formatMs(head.sparseMs!)})` : '';
    lines.push(`AnchorAttention ${formatMs(head.anchorMs)}${split}, dense ${formatMs(head.denseMs!)}`);
  }
  if (head.speedup !== undefined) lines.push(`speedup ${head.speedup.toFixed(2)}× (bound ${head.workBound.toFixed(2)}×)`);
  return lines;
}

/** Layers (rows) × heads (columns), coloured by the chosen metric. Arrow keys move, Enter opens a head's stripe map. */
export function HeadGrid({ stats, scale, selected, onOpen }: HeadGridProps) {
  const [focus, setFocus] = useState({ layer: 0, head: 0 });
  const [hover, setHover] = useState<{ layer: number; head: number } | null>(null);
  const { numLayers, numHeads } = stats;
  const width = AXIS + numHeads * (CELL + GAP);
  const height = 18 + numLayers * (CELL + GAP);
  const shown = hover ?? focus;
  const shownHead = stats.layers[shown.layer]?.heads[shown.head];

  const onKeyDown = (event: KeyboardEvent<SVGSVGElement>) => {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      setFocus((cell) => ({
        layer: Math.min(numLayers - 1, Math.max(0, cell.layer + move[0])),
        head: Math.min(numHeads - 1, Math.max(0, cell.head + move[1])),
      }));
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(focus);
    }
  };

  return (
    <div className="head-grid">
      <svg
        width={width}
        height={height}
        role="grid"
        aria-label={`${scale.label} per layer and head; arrow keys move, Enter opens the stripe map`}
        tabIndex={0}
        data-testid="head-grid"
        onKeyDown={onKeyDown}
        onMouseLeave={() => setHover(null)}
      >
        {Array.from({ length: numHeads }, (_, h) => (
          <text key={`h${h}`} x={AXIS + h * (CELL + GAP) + CELL / 2} y={12} textAnchor="middle" className="axis-label">
            {h}
          </text>
        ))}
        {stats.layers.map(({ layer, heads }) => (
          <g key={layer} role="row">
            <text x={AXIS - 6} y={18 + layer * (CELL + GAP) + CELL / 2 + 4} textAnchor="end" className="axis-label">
              L{layer}
            </text>
            {heads.map((head, h) => {
              const value = scale.value(head);
              const isFocus = focus.layer === layer && focus.head === h;
              const isSelected = selected?.layer === layer && selected.head === h;
              return (
                <rect
                  key={h}
                  role="gridcell"
                  aria-selected={isSelected}
                  aria-label={`layer ${layer}, head ${h}: ${value === undefined ? 'not measured' : scale.format(value)}`}
                  data-testid={`head-cell-${layer}-${h}`}
                  x={AXIS + h * (CELL + GAP)}
                  y={18 + layer * (CELL + GAP)}
                  width={CELL}
                  height={CELL}
                  fill={value === undefined ? 'var(--border)' : rampColor(scalePosition(scale, value))}
                  stroke={cellOutline(isSelected, isFocus)}
                  strokeWidth={isSelected || isFocus ? 2 : 0}
                  onMouseEnter={() => setHover({ layer, head: h })}
                  onClick={() => {
                    setFocus({ layer, head: h });
                    onOpen({ layer, head: h });
                  }}
                />
              );
            })}
          </g>
        ))}
      </svg>
      <div className="head-grid-details" data-testid="head-details" aria-live="polite">
        <strong>
          Layer {shown.layer}, head {shown.head}
        </strong>
        {shownHead && describe(shownHead).map((line) => <div key={line}>{line}</div>)}
      </div>
    </div>
  );
}
