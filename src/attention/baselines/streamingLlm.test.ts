import { describe, expect, it } from 'vitest';
import { checkSelection, selectionDensity } from '../metrics';
import { selectStreamingLlm } from './streamingLlm';
import { firstUncovered, intervalsOf, keysOf, randomHead } from './testUtils';

describe('selectStreamingLlm', () => {
  it('keeps the sink and the window', () => {
    // N = 8, 2 sink tokens, window 3: row r computes {0, 1} ∪ [r - 2, r].
    // r0 {0}, r1 {0,1}, r2 {0,1,2}, r3 {0..3}, r4 {0..4} (sink and window touch),
    // r5 {0,1,3,4,5}, r6 {0,1,4,5,6}, r7 {0,1,5,6,7}: 1+2+3+4+5+5+5+5 = 30 of 36 causal pairs.
    const { q, k } = randomHead(8, 2, 1);
    const sel = selectStreamingLlm(q, k, 8, 2, { sinkTokens: 2, window: 3 });
    expect(intervalsOf(sel)).toEqual([[0, 1], [0, 2], [0, 3], [0, 4], [0, 5], [0, 2, 3, 6], [0, 2, 4, 7], [0, 2, 5, 8]]);
    const density = selectionDensity(sel);
    expect(density.computedPairs).toBe(30);
    expect(density.density).toBeCloseTo(30 / 36, 12);
  });

  it('is dense when the window covers the prompt', () => {
    const { q, k } = randomHead(11, 3, 2);
    expect(selectionDensity(selectStreamingLlm(q, k, 11, 3, { sinkTokens: 0, window: 11 })).density).toBe(1);
  });

  it('rejects a zero window', () => {
    const { q, k } = randomHead(4, 2, 3);
    expect(() => selectStreamingLlm(q, k, 4, 2, { sinkTokens: 1, window: 0 })).toThrow(/window = 0/);
  });

  it.each([
    [13, 0, 1],
    [37, 4, 5],
    [61, 3, 17],
  ])('matches the plain rule for N = %i, sink %i, window %i', (N, sinkTokens, window) => {
    const { q, k } = randomHead(N, 4, N);
    const sel = selectStreamingLlm(q, k, N, 4, { sinkTokens, window });
    checkSelection(sel, N);
    for (let row = 0; row < N; row++) {
      const expected: number[] = [];
      for (let j = 0; j <= row; j++) if (j < sinkTokens || j > row - window) expected.push(j);
      expect(keysOf(sel, row), `row ${row}`).toEqual(expected);
    }
    const wider = selectStreamingLlm(q, k, N, 4, { sinkTokens, window: window + 3 });
    expect(firstUncovered(sel, wider)).toBeNull();
  });
});
