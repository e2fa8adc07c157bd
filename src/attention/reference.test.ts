import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/expectClose';
import { anchorChunkPlan, anchorRegion } from './anchorPlan';
import { anchorAttentionReference, denseAttentionReference } from './reference';
import { randomInputs } from './testInputs';
import { groupSize, type AnchorParams, type Selection } from './types';

const base: AnchorParams = { blockSize: 4, step: 2, theta: 3, initGroups: 1, localGroups: 1, denseLastGroup: false };
// Both references run in f64; they differ only in summation order.
const F64_ORDER = { atol: 1e-6, rtol: 1e-6 };

/** Keys of one row as a sorted list, after checking that the intervals are sorted, disjoint and causal. */
function rowKeys(selection: Selection, row: number): number[] {
  const intervals = selection.rowIntervals(row);
  const keys: number[] = [];
  for (let i = 0; i < intervals.length; i += 2) {
    expect(intervals[i]).toBeLessThan(intervals[i + 1]);
    if (i > 0) expect(intervals[i]).toBeGreaterThan(intervals[i - 1]);
    expect(intervals[i + 1]).toBeLessThanOrEqual(row + 1);
    for (let j = intervals[i]; j < intervals[i + 1]; j++) keys.push(j);
  }
  return keys;
}

describe('anchorChunkPlan', () => {
  it('runs whole aligned groups sparsely and the tail densely', () => {
    // G = 8, N = 20: groups at 0 and 8 are whole, rows 16 .. 19 are the tail.
    expect(anchorChunkPlan(0, 8, 20, base)).toBe('anchor');
    expect(anchorChunkPlan(8, 8, 20, base)).toBe('anchor');
    expect(anchorChunkPlan(16, 4, 20, base)).toBe('dense');
    expect(anchorChunkPlan(4, 8, 20, base)).toBe('dense');
  });

  it('makes the last whole group dense on request', () => {
    const params = { ...base, denseLastGroup: true };
    expect(anchorChunkPlan(0, 8, 16, params)).toBe('anchor');
    expect(anchorChunkPlan(8, 8, 16, params)).toBe('dense');
    expect(anchorChunkPlan(8, 8, 20, params)).toBe('dense');
    expect(anchorChunkPlan(0, 8, 20, params)).toBe('anchor');
  });
});

describe('anchorRegion', () => {
  it('places the candidates exactly between init and local regions', () => {
    expect(anchorRegion(3, base)).toEqual({ group: 3, initEnd: 8, localStart: 24, candidateStart: 8, candidateEnd: 24 });
    expect(anchorRegion(3, { ...base, initGroups: 2, localGroups: 2 })).toEqual({
      group: 3,
      initEnd: 16,
      localStart: 16,
      candidateStart: 16,
      candidateEnd: 16,
    });
    // Overlapping regions leave no candidates.
    expect(anchorRegion(0, { ...base, localGroups: 3 })).toMatchObject({ localStart: 0, candidateStart: 8, candidateEnd: 8 });
  });
});

describe('anchorAttentionReference', () => {
  const shape = { numHeads: 4, numKvHeads: 2, headDim: 16 };

  it('equals dense attention when theta is infinite', () => {
    const N = 27;
    const { q, k, v } = randomInputs(3, N, shape, { std: 1.3, heavyKeys: 2, bias: 2 });
    const result = anchorAttentionReference(q, k, v, N, shape, { ...base, theta: Infinity });
    expectClose('anchor, theta = Infinity', result.out, denseAttentionReference(q, k, v, N, shape), F64_ORDER);
    for (let h = 0; h < shape.numHeads; h++) {
      for (let row = 0; row < N; row++) expect(rowKeys(result.selection[h], row)).toEqual(Array.from({ length: row + 1 }, (_, j) => j));
    }
  });

  it('counts each key once and keeps stripes in the gap', () => {
    const N = 43;
    const params = { ...base, localGroups: 2 };
    const G = groupSize(params);
    const { q, k, v } = randomInputs(4, N, shape, { std: 1.3, heavyKeys: 3, bias: 2 });
    const result = anchorAttentionReference(q, k, v, N, shape, params);
    expect(result.plans).toEqual(['anchor', 'anchor', 'anchor', 'anchor', 'anchor', 'dense']);
    let selected = 0;
    let candidates = 0;
    result.plans.forEach((plan, g) => {
      const region = result.anchorRegion[g];
      if (plan === 'dense' || !region) return;
      for (let h = 0; h < shape.numHeads; h++) {
        const stripes = Array.from(result.selected[g][h]);
        const scores = result.candidateScores[g][h];
        expect(scores.length).toBe(region.candidateEnd - region.candidateStart);
        scores.forEach((score, c) => expect(stripes.includes(region.candidateStart + c)).toBe(score >= -params.theta));
        selected += stripes.length;
        candidates += scores.length;
        for (let row = g * G; row < (g + 1) * G; row++) {
          const keys = rowKeys(result.selection[h], row);
          // The row's keys are the anchor region plus the stripes, with no key twice.
          const anchorKeys = keys.filter((j) => j < Math.min(region.initEnd, region.localStart) || j >= region.localStart);
          expect(anchorKeys.filter((j) => stripes.includes(j))).toEqual([]);
          expect(keys.length).toBe(anchorKeys.length + stripes.length);
          expect(result.anchors[h][row]).toBeGreaterThan(-Infinity);
        }
      }
    });
    expect(selected).toBeGreaterThan(0);
    expect(selected).toBeLessThan(candidates);
    // Tail rows are dense.
    expect(rowKeys(result.selection[0], N - 1).length).toBe(N);
  });

  it('uses the given stripes for the output', () => {
    const N = 32;
    const { q, k, v } = randomInputs(5, N, shape, { std: 1.3 });
    const none = anchorAttentionReference(q, k, v, N, shape, base, { stripes: () => [] });
    const all = anchorAttentionReference(q, k, v, N, shape, base, {
      stripes: (group) => {
        const region = anchorRegion(group, base);
        return Array.from({ length: region.candidateEnd - region.candidateStart }, (_, c) => region.candidateStart + c);
      },
    });
    expect(none.selected.flat().every((list) => list.length === 0)).toBe(true);
    expectClose('all stripes', all.out, denseAttentionReference(q, k, v, N, shape), F64_ORDER);
  });
});
