import { describe, expect, it } from 'vitest';
import { attentionRecall, percentile, sampleRows, selectionDensity } from '../src/attention/metrics';
import { anchorAttentionReference } from '../src/attention/reference';
import { randomInputs } from '../src/attention/testInputs';
import { DEFAULT_ANCHOR_PARAMS, type AnchorParams, type AttentionShape } from '../src/attention/types';
import { anchorHeadSelection, anchorSelectionStats, chunkSelections, headRows, prefillChunks } from './anchor-metrics';

const SHAPE: AttentionShape = { numHeads: 4, numKvHeads: 2, headDim: 8 };
// G = 12 over N = 97: eight whole groups and a dense tail of one row.
const PARAMS: AnchorParams = { ...DEFAULT_ANCHOR_PARAMS, blockSize: 4, step: 3, theta: 1.5 };
const N = 97;
const SAMPLING = { last: 5, random: 20, seed: 3 };

function referenceCase() {
  const inputs = randomInputs(21, N, SHAPE, { heavyKeys: 5, bias: 1.5 });
  const reference = anchorAttentionReference(inputs.q, inputs.k, inputs.v, N, SHAPE, PARAMS);
  const stripes = reference.plans.map((plan, g) => (plan === 'anchor' ? reference.selected[g] : null));
  return { inputs: { N, shape: SHAPE, ...inputs }, reference, chunks: chunkSelections(N, PARAMS, stripes) };
}

describe('anchor selection statistics', () => {
  it('plans chunks of G rows with a dense tail', () => {
    const chunks = prefillChunks(N, PARAMS);
    expect(chunks.length).toBe(9);
    expect(chunks[8]).toEqual({ start: 96, rows: 1, plan: 'dense' });
    expect(chunks.slice(0, 8).every((chunk) => chunk.plan === 'anchor' && chunk.rows === 12)).toBe(true);
  });

  it('rebuilds the reference selection row by row', () => {
    const { reference, chunks } = referenceCase();
    for (let h = 0; h < SHAPE.numHeads; h++) {
      const got = anchorHeadSelection(N, PARAMS, chunks, h);
      for (let row = 0; row < N; row++) {
        expect(Array.from(got.rowIntervals(row)), `head ${h} row ${row}`).toEqual(Array.from(reference.selection[h].rowIntervals(row)));
      }
    }
  });

  it('pools density, stripe share and recall over heads', () => {
    const { inputs, reference, chunks } = referenceCase();
    const stats = anchorSelectionStats(inputs, PARAMS, chunks, SAMPLING);
    const rows = sampleRows(N, SAMPLING);
    const D = SHAPE.headDim;
    let computed = 0;
    let stripes = 0;
    const recalls: number[] = [];
    for (let h = 0; h < SHAPE.numHeads; h++) {
      // Stripe pairs counted directly: every row of an anchor group computes each stripe once.
      let stripePairs = 0;
      reference.plans.forEach((plan, g) => {
        if (plan === 'anchor') stripePairs += reference.selected[g][h].length * PARAMS.blockSize * PARAMS.step;
      });
      stripes += stripePairs;
      computed += selectionDensity(reference.selection[h]).computedPairs;
      const kvh = Math.floor(h / 2);
      const recall = attentionRecall(headRows(inputs.q, N, 4, D, h), headRows(inputs.k, N, 2, D, kvh), N, D, reference.selection[h], rows);
      recalls.push(...recall.perRow);
    }
    const causal = (SHAPE.numHeads * N * (N + 1)) / 2;
    expect(stats.density).toBeCloseTo(computed / causal, 12);
    expect(stats.stripeShare).toBeCloseTo(stripes / causal, 12);
    expect(stats.recallMean).toBeCloseTo(recalls.reduce((a, b) => a + b, 0) / recalls.length, 12);
    expect(stats.recallP5).toBeCloseTo(percentile(recalls, 0.05), 12);
    expect(stats.sampledRows).toBe(rows.length);
    // The theta above keeps only part of the candidates, so the case is neither dense nor empty.
    expect(stats.density).toBeLessThan(1);
    expect(stats.stripeShare).toBeGreaterThan(0);
  });

  it('gives density 1 and full recall when theta keeps every candidate', () => {
    const inputs = { N, shape: SHAPE, ...randomInputs(5, N, SHAPE) };
    const params = { ...PARAMS, theta: Infinity };
    const reference = anchorAttentionReference(inputs.q, inputs.k, inputs.v, N, SHAPE, params);
    const chunks = chunkSelections(N, params, reference.plans.map((plan, g) => (plan === 'anchor' ? reference.selected[g] : null)));
    const stats = anchorSelectionStats(inputs, params, chunks, SAMPLING);
    expect(stats.density).toBe(1);
    expect(stats.recallMean).toBeCloseTo(1, 12);
    expect(stats.recallP5).toBeCloseTo(1, 12);
  });

  it('rejects a chunk list of the wrong length', () => {
    expect(() => chunkSelections(N, PARAMS, [null])).toThrow(/stripe lists for 9 chunks/);
  });
});
