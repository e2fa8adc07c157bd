import { describe, expect, it } from 'vitest';
import { sweepInput } from '../../bench/compare-sweep';
import { writeCapture } from '../attention/capture';
import { randomHead } from '../attention/baselines/testUtils';
import { Random } from '../util/random';
import { captureHead, headSweepConfig, sweepHead, type CurvePoint } from './headCurves';

/** 150 rows is no multiple of the 16-row blocks or the 16-row AnchorAttention groups that headSweepConfig picks for it. */
const N = 150;
const D = 8;

function comparable(points: CurvePoint[]) {
  return points.map(({ method, knob, density, recallMean, recallP5, relativeL2, cosine }) => ({ method, knob, density, recallMean, recallP5, relativeL2, cosine }));
}

describe('sweepHead', () => {
  it('matches the bench sweep on one head', async () => {
    const head = randomHead(N, D, 7);
    const config = headSweepConfig(N);
    const points = await sweepHead({ ...head, N, D }, config);
    // The bench scores the same head through its multi-head path with H = Hkv = 1.
    const bench = sweepInput(
      { name: 'head', kind: 'synthetic', description: '', N, shape: { numHeads: 1, numKvHeads: 1, headDim: D }, ...head },
      config,
    );
    const expected = comparable(bench);
    const got = comparable(points);
    expect(got.map((point) => [point.method, point.knob])).toEqual(expected.map((point) => [point.method, point.knob]));
    got.forEach((point, i) => {
      // Same selection and metric code in the same order; only the output assembly differs, so values agree to f64 rounding.
      for (const field of ['density', 'recallMean', 'recallP5', 'relativeL2', 'cosine'] as const) {
        expect(point[field], `${point.method} ${point.knob} ${field}`).toBeCloseTo(expected[i][field], 9);
      }
    });
  });

  it('puts dense at density 1 and full recall', async () => {
    const head = randomHead(N, D, 8);
    const points = await sweepHead({ ...head, N, D }, headSweepConfig(N));
    const dense = points.filter((point) => point.method === 'dense');
    expect(dense).toHaveLength(1);
    expect(dense[0].density).toBe(1);
    expect(dense[0].recallMean).toBeCloseTo(1, 12);
    expect(dense[0].relativeL2).toBe(0);
    for (const point of points) {
      expect(point.density).toBeGreaterThan(0);
      expect(point.density).toBeLessThanOrEqual(1);
      expect(point.recallMean).toBeLessThanOrEqual(1 + 1e-12);
    }
  });

  it('reports progress per point', async () => {
    const head = randomHead(40, D, 9);
    const config = headSweepConfig(40);
    const progress: [number, number][] = [];
    const points = await sweepHead({ ...head, N: 40, D }, config, { onProgress: (done, total) => progress.push([done, total]) });
    const total = points.length;
    expect(progress).toHaveLength(total + 1);
    expect(progress[0]).toEqual([0, total]);
    expect(progress[total]).toEqual([total, total]);
  });

  it('stops on abort', async () => {
    const head = randomHead(40, D, 10);
    const controller = new AbortController();
    let calls = 0;
    const sweep = sweepHead({ ...head, N: 40, D }, headSweepConfig(40), {
      signal: controller.signal,
      onProgress: () => {
        calls += 1;
        if (calls === 3) controller.abort();
      },
    });
    await expect(sweep).rejects.toThrow();
    expect(calls).toBe(3);
  });
});

describe('captureHead', () => {
  it('extracts a query head and its KV head', () => {
    const [T, H, Hkv, headDim] = [13, 4, 2, 6];
    const random = new Random(3);
    const layer = { layer: 2, q: random.normals(T * H * headDim, 1), k: random.normals(T * Hkv * headDim, 1), v: random.normals(T * Hkv * headDim, 1) };
    const bytes = writeCapture({ model: 'm', numHeads: H, numKvHeads: Hkv, headDim, ropeApplied: true, layers: [layer] });

    const head = captureHead(bytes, 2, 3, 11);
    expect(head.N).toBe(11);
    expect(head.D).toBe(headDim);
    for (let t = 0; t < 11; t++) {
      for (let d = 0; d < headDim; d++) {
        // Query head 3 reads KV head 3 / (4 / 2) = 1.
        expect(head.q[t * headDim + d]).toBe(layer.q[(t * H + 3) * headDim + d]);
        expect(head.k[t * headDim + d]).toBe(layer.k[(t * Hkv + 1) * headDim + d]);
        expect(head.v[t * headDim + d]).toBe(layer.v[(t * Hkv + 1) * headDim + d]);
      }
    }
    expect(head.description).toContain('query head 3 (KV head 1), first 11 of 13 tokens');
  });

  it('rejects a missing layer and a head out of range', () => {
    const layer = { layer: 0, q: new Float32Array(3 * 2 * 4), k: new Float32Array(3 * 4), v: new Float32Array(3 * 4) };
    const bytes = writeCapture({ model: 'm', numHeads: 2, numKvHeads: 1, headDim: 4, ropeApplied: true, layers: [layer] });
    expect(() => captureHead(bytes, 5, 0, 3)).toThrow(/layer 5 is not in the capture; it has layers 0/);
    expect(() => captureHead(bytes, 0, 2, 3)).toThrow(/head 2 is outside 0 \.\. 1/);
  });
});
