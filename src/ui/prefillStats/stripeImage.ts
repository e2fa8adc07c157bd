/**
 * Pixels of a stripe map: one band of rows per query group, one pixel column per bin of key positions.
 * Each pixel shows the share of its bin's keys that the group computed. The colour gives the reason: the
 * init region, the local region (up to the group's last row), a selected stripe, or a dense chunk.
 * Binning keeps 32k keys readable at any width.
 */
import { anchorInitCount } from '../../attention/anchorPlan';
import { binnedShares, decodeStripes, type EncodedStripes } from '../../attention/anchorStats';
import type { ChunkInfo } from '../../engine/prefillStatsTypes';

export const STRIPE_COLORS = {
  init: [66, 133, 244],
  local: [52, 168, 83],
  stripe: [234, 113, 0],
  dense: [150, 150, 150],
  background: [255, 255, 255],
} as const;

type Rgb = readonly [number, number, number];

/** Share of the keys of each bin that lie in [start, end). */
function rangeShares(start: number, end: number, totalKeys: number, bins: number): Float32Array {
  const shares = new Float32Array(bins);
  for (let bin = 0; bin < bins; bin++) {
    const binStart = Math.ceil((bin * totalKeys) / bins);
    const binEnd = Math.ceil(((bin + 1) * totalKeys) / bins);
    const overlap = Math.max(0, Math.min(end, binEnd) - Math.max(start, binStart));
    shares[bin] = binEnd > binStart ? overlap / (binEnd - binStart) : 0;
  }
  return shares;
}

/**
 * Renders the map into RGBA pixels of width `bins` and height chunks × rowHeight. The local region of
 * a group is drawn up to its last row, so a band shows every key some row of the group attends.
 */
export function renderStripeMap(chunks: readonly ChunkInfo[], lists: readonly EncodedStripes[], totalKeys: number, bins: number, rowHeight: number): ImageData {
  const width = bins;
  const height = Math.max(1, chunks.length * rowHeight);
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) pixels.set([...STRIPE_COLORS.background, 255], i * 4);
  chunks.forEach((chunk, g) => {
    const end = chunk.start + chunk.rows;
    const layers: [Float32Array, Rgb][] = [];
    if (chunk.region) {
      layers.push([rangeShares(0, anchorInitCount(chunk.region), totalKeys, bins), STRIPE_COLORS.init]);
      layers.push([rangeShares(chunk.region.localStart, end, totalKeys, bins), STRIPE_COLORS.local]);
      layers.push([binnedShares(decodeStripes(lists[g]), totalKeys, bins), STRIPE_COLORS.stripe]);
    } else {
      layers.push([rangeShares(0, end, totalKeys, bins), STRIPE_COLORS.dense]);
    }
    for (let x = 0; x < width; x++) {
      // The regions are disjoint, so the shares add up to at most 1: the pixel is their colours'
      // share-weighted mean, laid over the background with opacity equal to the covered share.
      let covered = 0;
      const mixed = [0, 0, 0];
      for (const [shares, color] of layers) {
        covered += shares[x];
        for (let c = 0; c < 3; c++) mixed[c] += shares[x] * color[c];
      }
      const strength = Math.min(1, covered);
      const rgba = [0, 1, 2].map((c) => Math.round(covered > 0 ? (mixed[c] / covered) * strength + STRIPE_COLORS.background[c] * (1 - strength) : STRIPE_COLORS.background[c]));
      for (let y = g * rowHeight; y < (g + 1) * rowHeight; y++) pixels.set([rgba[0], rgba[1], rgba[2], 255], (y * width + x) * 4);
    }
  });
  return new ImageData(pixels, width, height);
}
