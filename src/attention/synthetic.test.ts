import { describe, expect, it } from 'vitest';
import { causalRowSoftmax } from './metrics';
import { generateSyntheticHead, SYNTHETIC_PRESETS, type SyntheticHead } from './synthetic';

/** Full causal softmax of one row, as a plain array. */
function rowAttention(head: SyntheticHead, row: number): Float64Array {
  const probabilities = new Float64Array(head.N);
  causalRowSoftmax(head.q, head.k, head.D, row, probabilities);
  return probabilities.subarray(0, row + 1);
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

describe('generateSyntheticHead', () => {
  it('plants the documented relative scores exactly without noise', () => {
    // D = 4 gives one dimension to each component and none to noise, so
    // rho(r, j) = s(r, j) - alpha·r must equal the formula of the file header.
    const N = 40;
    const D = 4;
    const head = generateSyntheticHead({
      N,
      D,
      seed: 3,
      noise: 0,
      sink: { strength: 3 },
      local: { window: 5 },
      heavyColumns: { strength: 2, positions: [7, 20] },
      needle: { strength: 6, key: 12, rows: [33, 38] },
    });
    const alpha = 1 / 5;
    expect(head.plan.localSlope).toBeCloseTo(alpha, 12);
    expect(head.plan.heavyColumns).toEqual([7, 20]);
    expect(head.plan.needleRows).toEqual([33, 38]);
    for (let r = 0; r < N; r++) {
      for (let j = 0; j <= r; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += head.q[r * D + d] * head.k[j * D + d];
        const rho = dot / Math.sqrt(D) - alpha * r;
        let expected = -alpha * (r - j);
        if (j === 0) expected = 3;
        else if (j === 7 || j === 20) expected = 2;
        else if (j === 12 && (r === 33 || r === 38)) expected = 6;
        // f32 entries of magnitude up to about sqrt(alpha·N·sqrt(D)) = 4: rounding near 1e-6 per score.
        expect(Math.abs(rho - expected), `rho(${r}, ${j})`).toBeLessThan(1e-4);
      }
    }
  });

  it('puts most attention on the sink and the window', () => {
    // Header formula: sink share ~ exp(4) / (exp(4) + 1/(1 - exp(-1/16))) = 54.6 / (54.6 + 16.5) = 0.77
    // before noise; noise of 1 nat scales every exp(rho) by a similar factor on average.
    const head = generateSyntheticHead({ N: 256, D: 16, seed: 11, ...SYNTHETIC_PRESETS['sink-local'] });
    const sinkShares: number[] = [];
    const localShares: number[] = [];
    for (let r = 64; r < 256; r++) {
      const attention = rowAttention(head, r);
      sinkShares.push(attention[0]);
      // The last 3 windows hold 1 - exp(-3) = 95% of the ordinary-key mass.
      let local = 0;
      for (let j = r - 47; j <= r; j++) local += attention[j];
      localShares.push(attention[0] + local);
    }
    expect(mean(sinkShares)).toBeGreaterThan(0.6);
    expect(mean(sinkShares)).toBeLessThan(0.9);
    // A noise spike on a far key can take a few percent of one row, so the minimum is looser.
    expect(mean(localShares)).toBeGreaterThan(0.95);
    expect(Math.min(...localShares)).toBeGreaterThan(0.85);
  });

  it('makes heavy columns attended by every later row', () => {
    // Four columns of strength 5 against a sink of 2 and a window of 16:
    // each ~ exp(5) / (4·exp(5) + exp(2) + 16.5) = 148 / 623 = 0.24 before noise.
    const head = generateSyntheticHead({ N: 200, D: 16, seed: 5, ...SYNTHETIC_PRESETS['heavy-columns'] });
    const columns = head.plan.heavyColumns;
    expect(columns).toHaveLength(4);
    const lastColumn = Math.max(...columns);
    for (const column of columns) {
      const shares: number[] = [];
      for (let r = lastColumn + 20; r < 200; r++) shares.push(rowAttention(head, r)[column]);
      expect(mean(shares), `column ${column}`).toBeGreaterThan(0.12);
    }
    const total: number[] = [];
    for (let r = lastColumn + 20; r < 200; r++) {
      const attention = rowAttention(head, r);
      total.push(columns.reduce((sum, c) => sum + attention[c], 0));
    }
    expect(mean(total)).toBeGreaterThan(0.75);
  });

  it('makes needle rows attend the needle key', () => {
    // Strength 10: exp(10) = 22026 against exp(2) + 16.5 for the rest -> about 0.999 before noise.
    const head = generateSyntheticHead({ N: 160, D: 8, seed: 21, ...SYNTHETIC_PRESETS.needle });
    const { needleKey, needleRows } = head.plan;
    expect(needleKey).not.toBeNull();
    expect(needleRows).toHaveLength(4);
    for (const row of needleRows) {
      expect(row).toBeGreaterThanOrEqual(120);
      expect(rowAttention(head, row)[needleKey!], `row ${row}`).toBeGreaterThan(0.9);
    }
    // Other late rows see the needle key as an ordinary key about 100 tokens back: e^(-100/16) ~ 0.002.
    for (let row = 120; row < 160; row++) {
      if (needleRows.includes(row)) continue;
      expect(rowAttention(head, row)[needleKey!], `row ${row}`).toBeLessThan(0.01);
    }
  });

  it('mixes every component in one head', () => {
    const head = generateSyntheticHead({ N: 300, D: 12, seed: 8, ...SYNTHETIC_PRESETS.mixed });
    expect(head.plan.dims).toEqual({ local: 0, sink: 1, heavy: 2, needle: 3 });
    expect(head.plan.heavyColumns).not.toContain(head.plan.needleKey);
    const row = head.plan.needleRows[0];
    expect(rowAttention(head, row)[head.plan.needleKey!]).toBeGreaterThan(0.9);
  });

  it('repeats for a seed and changes with it', () => {
    const a = generateSyntheticHead({ N: 50, D: 8, seed: 1, ...SYNTHETIC_PRESETS.mixed });
    const b = generateSyntheticHead({ N: 50, D: 8, seed: 1, ...SYNTHETIC_PRESETS.mixed });
    const c = generateSyntheticHead({ N: 50, D: 8, seed: 2, ...SYNTHETIC_PRESETS.mixed });
    expect(Array.from(a.q)).toEqual(Array.from(b.q));
    expect(Array.from(a.v)).toEqual(Array.from(b.v));
    expect(Array.from(a.k)).not.toEqual(Array.from(c.k));
  });

  it('rejects a head dimension with no room for noise', () => {
    expect(() => generateSyntheticHead({ N: 20, D: 4, seed: 1, ...SYNTHETIC_PRESETS.mixed })).toThrow(/D = 4 is too small/);
  });

  it('rejects a heavy column on the needle key', () => {
    expect(() =>
      generateSyntheticHead({ N: 20, D: 6, seed: 1, heavyColumns: { strength: 1, positions: [5] }, needle: { strength: 1, key: 5, rows: [10] } }),
    ).toThrow(/heavy column 5/);
  });
});
