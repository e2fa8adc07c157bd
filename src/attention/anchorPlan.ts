/**
 * AnchorAttention regions of one query group, and the rule that picks sparse or dense attention
 * for a prefill chunk. The GPU dispatch and the TypeScript reference both use them.
 */
import { groupSize, type AnchorParams } from './types';

/**
 * Key regions of group g (rows gG .. gG + G - 1). Row r attends the anchor region
 * [0, min(initEnd, localStart)) ∪ [localStart, r], plus the selected stripes, which
 * lie in the candidate range [candidateStart, candidateEnd) between the two parts.
 */
export interface AnchorRegion {
  group: number;
  /** initGroups * G: the init region is keys [0, initEnd), clipped causally. */
  initEnd: number;
  /** max(0, (g - localGroups + 1) * G): the local region is keys [localStart, r]. */
  localStart: number;
  /** First candidate key, initEnd (the range is empty when the regions overlap or touch). */
  candidateStart: number;
  /** One past the last candidate key, max(initEnd, localStart). */
  candidateEnd: number;
}

export function anchorRegion(group: number, params: AnchorParams): AnchorRegion {
  const G = groupSize(params);
  const initEnd = params.initGroups * G;
  const localStart = Math.max(0, (group - params.localGroups + 1) * G);
  return { group, initEnd, localStart, candidateStart: initEnd, candidateEnd: Math.max(initEnd, localStart) };
}

/** Keys of the anchor region before the local part: [0, anchorInitCount) (the two parts never overlap). */
export function anchorInitCount(region: AnchorRegion): number {
  return Math.min(region.initEnd, region.localStart);
}

/**
 * Chooses how the prefill chunk of `rows` rows at `start` runs in a prompt of `totalTokens` tokens:
 * 'anchor' for a whole group (start a multiple of G, rows = G), 'dense' for the tail after
 * the last whole group and for a chunk that is not one aligned group. With denseLastGroup
 * the last whole group (rows (k - 1)G .. kG - 1 for k = floor(N / G)) is dense as well.
 */
export function anchorChunkPlan(start: number, rows: number, totalTokens: number, params: AnchorParams): 'anchor' | 'dense' {
  const G = groupSize(params);
  if (start % G !== 0 || rows !== G || start + rows > totalTokens) return 'dense';
  const wholeGroups = Math.floor(totalTokens / G);
  if (params.denseLastGroup && start / G === wholeGroups - 1) return 'dense';
  return 'anchor';
}

/** Throws unless the parameters describe a usable group geometry. */
export function checkAnchorParams(op: string, params: AnchorParams): void {
  const integers: [string, number, number][] = [
    ['blockSize', params.blockSize, 1],
    ['step', params.step, 1],
    ['initGroups', params.initGroups, 0],
    ['localGroups', params.localGroups, 1],
  ];
  for (const [name, value, min] of integers) {
    if (!Number.isInteger(value) || value < min) throw new Error(`${op}: params.${name} must be an integer >= ${min}, got ${value}`);
  }
  if (Number.isNaN(params.theta)) {
    throw new Error(`${op}: params.theta must be a number of nats or Infinity, got NaN`);
  }
}
