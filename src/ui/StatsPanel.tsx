import { useEffect, useRef } from 'react';
import { useAppStore } from '../store/useAppStore';
import { formatCount, formatMs, formatRate } from './format';

/** Live decode rate while streaming, updated through `subscribe` so the panel does not re-render per token. */
function LiveRate() {
  const output = useRef<HTMLSpanElement>(null);
  useEffect(
    () =>
      useAppStore.subscribe((state) => {
        if (!output.current) return;
        const { liveTokens, liveFirstTokenAt } = state;
        const seconds = liveFirstTokenAt === null ? 0 : (performance.now() - liveFirstTokenAt) / 1000;
        output.current.textContent = liveTokens > 1 && seconds > 0 ? `${formatRate((liveTokens - 1) / seconds)} (live)` : '';
      }),
    [],
  );
  return <span ref={output} data-testid="live-rate" />;
}

/** Statistics of the last answer: prompt, reused and prefilled tokens, timings and rates. */
export function StatsPanel() {
  const stats = useAppStore((state) => state.lastStats);
  const streaming = useAppStore((state) => state.activeRequestId !== null);

  return (
    <section className="panel" aria-labelledby="stats-heading">
      <h2 id="stats-heading">Statistics</h2>
      {streaming && <LiveRate />}
      {!stats && !streaming && <p className="hint">Statistics appear after each answer.</p>}
      {stats && (
        <dl className="stats" data-testid="stats-panel">
          <dt>Prompt tokens</dt>
          <dd data-testid="stat-prompt-tokens" data-value={stats.promptTokens}>{formatCount(stats.promptTokens)}</dd>
          <dt>Reused from KV cache</dt>
          <dd data-testid="stat-reused-tokens" data-value={stats.reusedTokens}>{formatCount(stats.reusedTokens)}</dd>
          <dt>Prefilled tokens</dt>
          <dd data-testid="stat-prefill-tokens" data-value={stats.prefillTokens}>{formatCount(stats.prefillTokens)}</dd>
          <dt>Prefill time</dt>
          <dd data-testid="stat-prefill-ms">
            {formatMs(stats.prefillMs)} ({formatRate(stats.prefillTokensPerSecond)}, {stats.attention === 'anchor' ? 'AnchorAttention' : 'dense'})
          </dd>
          <dt>Time to first token</dt>
          <dd data-testid="stat-ttft">{formatMs(stats.timeToFirstTokenMs)}</dd>
          <dt>Decode</dt>
          <dd data-testid="stat-decode-rate" data-value={stats.generatedTokens}>
            {formatCount(stats.generatedTokens)} tokens, {formatRate(stats.decodeTokensPerSecond)}
          </dd>
          <dt>Stopped by</dt>
          <dd data-testid="stat-stopped-by">{stats.stoppedBy}</dd>
        </dl>
      )}
    </section>
  );
}
