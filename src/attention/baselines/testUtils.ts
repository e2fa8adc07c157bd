/** Helpers for the selection tests: plain views of a Selection and random heads. */
import { Random } from '../../util/random';
import type { Selection } from '../types';

/** Returns each row's interval bounds as a plain array, for toEqual. */
export function intervalsOf(sel: Selection): number[][] {
  return Array.from({ length: sel.numRows }, (_, row) => Array.from(sel.rowIntervals(row)));
}

/** Per-row flags of the computed keys 0..row. */
export function maskOf(sel: Selection): boolean[][] {
  return Array.from({ length: sel.numRows }, (_, row) => {
    const keys = new Array<boolean>(row + 1).fill(false);
    const intervals = sel.rowIntervals(row);
    for (let i = 0; i < intervals.length; i += 2) for (let j = intervals[i]; j < intervals[i + 1]; j++) keys[j] = true;
    return keys;
  });
}

/** Sorted computed keys of one row. */
export function keysOf(sel: Selection, row: number): number[] {
  const keys: number[] = [];
  const intervals = sel.rowIntervals(row);
  for (let i = 0; i < intervals.length; i += 2) for (let j = intervals[i]; j < intervals[i + 1]; j++) keys.push(j);
  return keys;
}

/** The first (row, key) pair of `inner` that `outer` does not compute, or null when outer covers inner. */
export function firstUncovered(inner: Selection, outer: Selection): [number, number] | null {
  const outerMask = maskOf(outer);
  for (let row = 0; row < inner.numRows; row++) {
    for (const key of keysOf(inner, row)) if (!outerMask[row][key]) return [row, key];
  }
  return null;
}

/** Gaussian q, k, v [N, D] with standard deviation `std` for q and k, so scores spread over a few nats. */
export function randomHead(N: number, D: number, seed: number, std = 1.5): { q: Float32Array; k: Float32Array; v: Float32Array } {
  const rng = new Random(seed);
  return { q: rng.normals(N * D, std), k: rng.normals(N * D, std), v: rng.normals(N * D) };
}

/** Plain s(r, j) = q_r · k_j / sqrt(D) for one pair. */
export function score(q: Float32Array, k: Float32Array, D: number, row: number, key: number): number {
  let dot = 0;
  for (let d = 0; d < D; d++) dot += q[row * D + d] * k[key * D + d];
  return dot / Math.sqrt(D);
}
