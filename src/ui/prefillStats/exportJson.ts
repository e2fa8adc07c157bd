/** The JSON export of a prefill's statistics: every number and every stripe list as plain arrays of keys. */
import { decodeStripes } from '../../attention/anchorStats';
import type { PrefillStats } from '../../engine/prefillStatsTypes';

/** Formats `stats` as JSON; Infinity (a theta of +∞) is written as the string "Infinity". */
export function prefillStatsJson(stats: PrefillStats): string {
  const anchor = stats.anchor;
  const document = {
    ...stats,
    anchor: anchor && {
      ...anchor,
      stripes: anchor.stripes.map((layer, l) => ({
        layer: l,
        heads: layer.map((lists, h) => ({
          head: h,
          groups: lists.map((list, i) => ({ start: anchor.chunks[i].start, keys: Array.from(decodeStripes(list)) })),
        })),
      })),
    },
  };
  return JSON.stringify(document, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 2);
}

/** Starts a download of the statistics as a .json file. */
export function downloadPrefillStats(stats: PrefillStats): void {
  const blob = new Blob([prefillStatsJson(stats)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `anchor-prefill-stats-${stats.promptKey}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the blob by the next task, so the URL can go.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
