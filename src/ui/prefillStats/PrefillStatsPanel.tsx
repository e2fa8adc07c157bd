import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { TimingSource } from '../../engine/prefillStatsTypes';
import type { HeadMetric, PrefillRun } from '../../store/prefillStatsSlice';
import { useAppStore } from '../../store/useAppStore';
import { formatCount, formatMs } from '../format';
import { ColorLegend } from './ColorLegend';
import { metricScale } from './colorScale';
import { downloadPrefillStats } from './exportJson';
import { HeadGrid } from './HeadGrid';
import { StripeMap } from './StripeMap';
import './prefillStats.css';

const METRICS: [HeadMetric, string][] = [
  ['density', 'Density'],
  ['recall', 'Recall'],
  ['speedup', 'Speedup'],
];

function speedupText(run: PrefillRun): string {
  if (run.attention === 'dense') return '—';
  if (run.speedup === undefined) return 'no dense run of this prompt yet';
  return `${run.speedup.toFixed(2)}× (dense ${formatMs(run.densePrefillMs!)}, ${run.denseSource})`;
}

function timingText(timing: TimingSource | undefined): string {
  if (timing === undefined) return 'off (needs detailed statistics)';
  if (timing === 'timestamp-query') return 'GPU timestamp queries';
  return 'CPU time around each submission';
}

/** Dense and sparse prefill times of recent runs, latest first. */
function RunComparison({ runs }: { runs: PrefillRun[] }) {
  if (runs.length === 0) return null;
  return (
    <table className="run-comparison" data-testid="prefill-comparison">
      <caption>Prefill time per run (latest first)</caption>
      <thead>
        <tr>
          <th scope="col">Attention</th>
          <th scope="col">Prefilled tokens</th>
          <th scope="col">Prefill time</th>
          <th scope="col">Sparse speedup over dense</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.requestId} data-testid={`prefill-run-${run.attention}`}>
            <td>{run.attention === 'anchor' ? 'AnchorAttention' : 'dense'}</td>
            <td>{formatCount(run.prefillTokens)}</td>
            <td data-testid="prefill-run-ms" data-value={run.prefillMs}>
              {formatMs(run.prefillMs)}
            </td>
            <td>{speedupText(run)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Shows the per-layer, per-head statistics of the last AnchorAttention prefill, its stripe maps and the dense comparison. */
export function PrefillStatsPanel() {
  const { stats, runs, metric, selected } = useAppStore(
    useShallow((state) => ({ stats: state.anchorStats, runs: state.prefillRuns, metric: state.headMetric, selected: state.selectedHead })),
  );
  const store = useAppStore.getState;
  const anchor = stats?.anchor;
  const heads = useMemo(() => anchor?.layers.flatMap((layer) => layer.heads) ?? [], [anchor]);
  const scale = useMemo(() => metricScale(metric, heads), [metric, heads]);

  return (
    <section className="panel prefill-stats" aria-labelledby="prefill-stats-heading" data-testid="prefill-stats">
      <div className="panel-header">
        <h2 id="prefill-stats-heading">AnchorAttention per head</h2>
        {stats && anchor && (
          <div className="actions">
            <button type="button" data-testid="export-json" onClick={() => downloadPrefillStats(stats)}>
              Export JSON
            </button>
          </div>
        )}
      </div>
      {!anchor && <p className="hint">After a sparse (AnchorAttention) prefill, each layer's heads appear here with their density, recall and speedup.</p>}
      {stats && anchor && (
        <>
          <dl className="stats" data-testid="prefill-totals">
            <dt>Sparse prefill</dt>
            <dd data-testid="sparse-prefill-ms">
              {formatMs(stats.prefillMs)} for {formatCount(stats.prefillTokens)} tokens
              {stats.statisticsMs > 0 ? `, plus ${formatMs(stats.statisticsMs)} of statistics collection not counted` : ''}
            </dd>
            <dt>Dense prefill</dt>
            <dd data-testid="dense-prefill-ms">
              {stats.densePrefillMs === undefined ? 'not measured (tick "Compare with dense" or run dense on this prompt)' : `${formatMs(stats.densePrefillMs)} (${stats.denseSource})`}
            </dd>
            <dt>Overall speedup</dt>
            <dd data-testid="overall-speedup">{stats.speedup === undefined ? '—' : `${stats.speedup.toFixed(2)}×`}</dd>
            <dt>Anchor-only density</dt>
            <dd>{anchor.anchorOnlyDensity.toFixed(3)} (every head's lower bound)</dd>
            <dt>Per-head timing</dt>
            <dd>{timingText(anchor.timing)}</dd>
          </dl>
          <label className="inline-field">
            Colour by{' '}
            <select data-testid="head-metric" value={metric} onChange={(event) => store().setHeadMetric(event.target.value as HeadMetric)}>
              {METRICS.map(([value, label]) => (
                <option key={value} value={value} disabled={value !== 'density' && !anchor.detailed}>
                  {label}
                  {value !== 'density' && !anchor.detailed ? ' (detailed statistics only)' : ''}
                </option>
              ))}
            </select>
          </label>
          <ColorLegend scale={scale} />
          <HeadGrid stats={anchor} scale={scale} selected={selected} onOpen={(cell) => store().selectHead(cell)} />
          {selected && <StripeMap stats={anchor} layer={selected.layer} head={selected.head} totalKeys={stats.promptTokens} />}
        </>
      )}
      <RunComparison runs={runs} />
    </section>
  );
}
