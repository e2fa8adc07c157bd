import { describe, expect, it } from 'vitest';
import { expectClose } from '../test/expectClose';
import { driverName, gpuRuntime } from '../test/gpu';
import { createRuntime } from '../src/gpu/dispatch';
import { anchorAttentionReference, denseAttentionReference } from '../src/attention/reference';
import { randomInputs } from '../src/attention/testInputs';
import { groupSize, type AnchorParams, type AttentionShape } from '../src/attention/types';
import { prefillChunks, type AttentionInputs } from './anchor-metrics';
import { PrefillBench } from './anchor-timing';

// f32 online softmax against the f64 reference over at most a few dozen keys of O(1) values.
const F32_ATTENTION = { atol: 1e-4, rtol: 1e-4 };

const SHAPE: AttentionShape = { numHeads: 4, numKvHeads: 2, headDim: 64 };
// G = 12 over N = 77: six whole groups, then a dense tail of five rows.
const PARAMS: AnchorParams = { blockSize: 4, step: 3, theta: 2, initGroups: 1, localGroups: 1, denseLastGroup: false };
const N = 77;

function inputs(): AttentionInputs {
  return { N, shape: SHAPE, ...randomInputs(31, N, SHAPE, { heavyKeys: 4, bias: 1.5 }) };
}

describe(`PrefillBench on ${driverName()}`, () => {
  it.each([
    ['timestamp queries', false],
    ['CPU wall time', true],
  ])('matches the references with %s', async (_, cpuTiming) => {
    const shared = await gpuRuntime();
    if (!shared) return;
    // CPU timing is what a runtime without a profiler gets, so this one is built without one.
    const runtime = cpuTiming ? createRuntime(shared.gpu) : shared;
    const data = inputs();
    const bench = new PrefillBench(runtime, data, groupSize(PARAMS), 'f32');
    try {
      expect(bench.timingSource).toBe(cpuTiming || !runtime.profiler?.enabled ? 'cpu-wall' : 'timestamp-query');

      const dense = await bench.run({ kind: 'dense' }, true);
      expectClose('dense output', dense.out!, denseAttentionReference(data.q, data.k, data.v, N, SHAPE), F32_ATTENTION);
      expect(dense.times.dense).toBeGreaterThan(0);
      expect([dense.times.select, dense.times.sparse, dense.times.tail]).toEqual([0, 0, 0]);
      expect(dense.stripes).toBeUndefined();

      const anchor = await bench.run({ kind: 'anchor', params: PARAMS }, true);
      const plans = prefillChunks(N, PARAMS);
      expect(anchor.stripes!.length).toBe(plans.length);
      expect(anchor.stripes!.map((lists) => lists === null)).toEqual(plans.map((chunk) => chunk.plan === 'dense'));
      // The reference uses the GPU's stripes, so keys whose score sits on the threshold cannot differ.
      const reference = anchorAttentionReference(data.q, data.k, data.v, N, SHAPE, PARAMS, { stripes: (g, h) => anchor.stripes![g]?.[h] });
      expectClose('anchor output', anchor.out!, reference.out, F32_ATTENTION);
      const stripeCount = anchor.stripes!.reduce((sum, lists) => sum + (lists ?? []).reduce((count, list) => count + list.length, 0), 0);
      const referenceCount = reference.selected.reduce((sum, lists) => sum + lists.reduce((count, list) => count + list.length, 0), 0);
      expect(stripeCount).toBe(referenceCount);
      // The threshold keeps some candidates, so the stripe path really runs.
      expect(stripeCount).toBeGreaterThan(0);
      expect(anchor.times.select).toBeGreaterThan(0);
      expect(anchor.times.sparse).toBeGreaterThan(0);
      expect(anchor.times.tail).toBeGreaterThan(0);
      expect(anchor.times.dense).toBe(0);

      // A timed run without read-back still reports every phase.
      const timed = await bench.run({ kind: 'anchor', params: PARAMS }, false);
      expect(timed.out).toBeUndefined();
      expect(timed.times.select + timed.times.sparse + timed.times.tail).toBeGreaterThan(0);
    } finally {
      bench.dispose();
    }
  });

  it('rejects anchor params of another group size', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const bench = new PrefillBench(runtime, inputs(), 16, 'f32');
    try {
      await expect(bench.run({ kind: 'anchor', params: PARAMS }, false)).rejects.toThrow(/G = 12, but the chunks were cut for G = 16/);
    } finally {
      bench.dispose();
    }
  });
});
