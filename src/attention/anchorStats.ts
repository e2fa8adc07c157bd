/**
 * Statistics of an AnchorAttention prefill derived from its group regions and stripe counts, with no
 * Q or K needed: computed (row, key) pairs per head, density and the stripe-only share (the metrics of
 * metrics.ts's selectionDensity, counted in closed form), compressed stripe lists for the stripe map,
 * and the relative L2 error and recall summaries accumulated over groups.
 */
import { percentile } from './metrics';
import { anchorInitCount, type AnchorRegion } from './anchorPlan';

/** One prefill chunk of a prompt as statistics see it: its rows and whether they ran sparsely. */
export interface ChunkPlan {
  /** Absolute position of the chunk's first row. */
  start: number;
  rows: number;
  /** The group's regions for an AnchorAttention chunk (rows = G at a multiple of G); null for a dense chunk. */
  region: AnchorRegion | null;
}

/** Pairs of the causal rows start .. start + rows - 1: sum of (r + 1). */
export function causalPairs(start: number, rows: number): number {
  return rows * start + (rows * (rows + 1)) / 2;
}

/**
 * Pairs of the anchor region for the rows of one group: each row r attends the init keys
 * [0, anchorInitCount) and the local keys [localStart, r].
 */
export function anchorRegionPairs(region: AnchorRegion, start: number, rows: number): number {
  const initCount = anchorInitCount(region);
  // Local keys of row r: r - localStart + 1, summed over r = start .. start + rows - 1.
  const localPairs = rows * (start - region.localStart) + (rows * (rows + 1)) / 2;
  return rows * initCount + localPairs;
}

export interface HeadPairs {
  /** (row, key) pairs computed, anchor region and dense chunks included. */
  computedPairs: number;
  /** Pairs that come from stripes: G × stripes of the group, summed over groups. */
  stripePairs: number;
  /** Causal pairs of the rows covered: N(N + 1)/2 for a prefill from position 0. */
  causalPairs: number;
}

/**
 * Counts one head's pairs over the chunks of a prefill. `stripeCounts[i]` is the head's stripe count in
 * chunk i (ignored for dense chunks, which compute every causal pair).
 */
export function headPairs(chunks: readonly ChunkPlan[], stripeCounts: ArrayLike<number>): HeadPairs {
  if (stripeCounts.length !== chunks.length) {
    throw new Error(`headPairs: ${stripeCounts.length} stripe counts for ${chunks.length} chunks`);
  }
  let computed = 0;
  let stripes = 0;
  let causal = 0;
  chunks.forEach((chunk, i) => {
    causal += causalPairs(chunk.start, chunk.rows);
    if (!chunk.region) {
      computed += causalPairs(chunk.start, chunk.rows);
      return;
    }
    const count = stripeCounts[i];
    const candidates = chunk.region.candidateEnd - chunk.region.candidateStart;
    if (!Number.isInteger(count) || count < 0 || count > candidates) {
      throw new Error(`headPairs: chunk at ${chunk.start} has ${count} stripes, expected an integer from 0 to ${candidates}`);
    }
    computed += anchorRegionPairs(chunk.region, chunk.start, chunk.rows) + chunk.rows * count;
    stripes += chunk.rows * count;
  });
  return { computedPairs: computed, stripePairs: stripes, causalPairs: causal };
}

/**
 * Density of a prefill that ran only the anchor regions and dense chunks, with no stripe: the lower
 * bound of every head's density for these chunks.
 */
export function anchorOnlyDensity(chunks: readonly ChunkPlan[]): number {
  const pairs = headPairs(chunks, new Array<number>(chunks.length).fill(0));
  return pairs.causalPairs > 0 ? pairs.computedPairs / pairs.causalPairs : 0;
}

// ---------------------------------------------------------------------------------------------
// Stripe lists
// ---------------------------------------------------------------------------------------------

/**
 * A sorted stripe list in the smaller of two forms: runs of consecutive keys as [start, end) pairs,
 * or a bitmap over the candidate range (bit c of word c >> 5 is key candidateStart + c). A bitmap never
 * exceeds C / 8 bytes, so 32k-token prompts stay a few MB however scattered the stripes are.
 */
export type EncodedStripes = { kind: 'runs'; runs: Uint32Array } | { kind: 'bitmap'; candidateStart: number; candidateCount: number; bits: Uint32Array };

/** Encodes ascending keys of the candidate range [candidateStart, candidateEnd). */
export function encodeStripes(keys: ArrayLike<number>, candidateStart: number, candidateEnd: number): EncodedStripes {
  const runs: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key < candidateStart || key >= candidateEnd || (i > 0 && key <= keys[i - 1])) {
      throw new Error(`encodeStripes: keys must ascend inside [${candidateStart}, ${candidateEnd}), got ${key} at index ${i}`);
    }
    if (runs.length > 0 && runs[runs.length - 1] === key) runs[runs.length - 1] = key + 1;
    else runs.push(key, key + 1);
  }
  const candidateCount = candidateEnd - candidateStart;
  const bitmapWords = Math.ceil(candidateCount / 32);
  if (runs.length <= bitmapWords) return { kind: 'runs', runs: Uint32Array.from(runs) };
  const bits = new Uint32Array(bitmapWords);
  for (let i = 0; i < keys.length; i++) {
    const c = keys[i] - candidateStart;
    bits[c >>> 5] |= 1 << (c & 31);
  }
  return { kind: 'bitmap', candidateStart, candidateCount, bits };
}

/** Decodes a stripe list back to its ascending keys. */
export function decodeStripes(encoded: EncodedStripes): Int32Array {
  const keys: number[] = [];
  if (encoded.kind === 'runs') {
    for (let i = 0; i < encoded.runs.length; i += 2) {
      for (let key = encoded.runs[i]; key < encoded.runs[i + 1]; key++) keys.push(key);
    }
  } else {
    for (let c = 0; c < encoded.candidateCount; c++) {
      if ((encoded.bits[c >>> 5] >>> (c & 31)) & 1) keys.push(encoded.candidateStart + c);
    }
  }
  return Int32Array.from(keys);
}

/** Number of keys in an encoded list. */
export function stripeCount(encoded: EncodedStripes): number {
  if (encoded.kind === 'runs') {
    let count = 0;
    for (let i = 0; i < encoded.runs.length; i += 2) count += encoded.runs[i + 1] - encoded.runs[i];
    return count;
  }
  let count = 0;
  for (const word of encoded.bits) {
    let bits = word;
    while (bits !== 0) {
      bits &= bits - 1;
      count++;
    }
  }
  return count;
}

/**
 * Shares of selected keys per bin: bin i covers the keys k in [0, totalKeys) with
 * floor(k · bins / totalKeys) = i, and receives the share of them that are in `keys`.
 */
export function binnedShares(keys: ArrayLike<number>, totalKeys: number, bins: number): Float32Array {
  const shares = new Float32Array(bins);
  if (totalKeys <= 0 || bins <= 0) return shares;
  for (let i = 0; i < keys.length; i++) shares[Math.floor((keys[i] * bins) / totalKeys)]++;
  for (let bin = 0; bin < bins; bin++) {
    // Keys k with bin · T / bins <= k < (bin + 1) · T / bins.
    const keysInBin = Math.ceil(((bin + 1) * totalKeys) / bins) - Math.ceil((bin * totalKeys) / bins);
    shares[bin] = keysInBin > 0 ? shares[bin] / keysInBin : 0;
  }
  return shares;
}

// ---------------------------------------------------------------------------------------------
// Output error and recall over groups
// ---------------------------------------------------------------------------------------------

/** Squared-error sums of one head, accumulated group by group. */
export interface ErrorSums {
  /** Σ (sparse − dense)². */
  diffSquared: number;
  /** Σ dense². */
  refSquared: number;
}

/** Relative L2 error ||sparse − dense|| / ||dense|| from accumulated sums (0 when both are zero). */
export function relativeL2FromSums({ diffSquared, refSquared }: ErrorSums): number {
  if (refSquared > 0) return Math.sqrt(diffSquared / refSquared);
  return diffSquared === 0 ? 0 : Infinity;
}

/** Mean and 5th percentile of per-row recall values (metrics.ts's percentile). */
export function summarizeRecall(values: ArrayLike<number>): { mean: number; p5: number } {
  if (values.length === 0) throw new Error('summarizeRecall: no sampled rows');
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return { mean: sum / values.length, p5: percentile(values, 0.05) };
}
