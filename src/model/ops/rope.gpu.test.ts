import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { expectClose } from '../../../test/expectClose';
import { readF32 } from '../../gpu/buffers';
import { ComputeBatch } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { computeInvFreq } from '../rope';
import { encodeRope } from './rope';
import { ropeReference } from './rope.ref';


// The kernel's own sin and cos are within about 1 ulp, so outputs of unit-normal inputs differ by a few ulp.
const ROPE_TOLERANCE = { atol: 2e-6, rtol: 1e-5 };

const CASES = [
  { rows: 1, heads: 14, headDim: 64, start: 0, partial: 1 },
  { rows: 37, heads: 2, headDim: 64, start: 5, partial: 1 },
  { rows: 3, heads: 3, headDim: 128, start: 32_000, partial: 1 }, // angles of 32k radians
  { rows: 5, heads: 2, headDim: 96, start: 131_000, partial: 0.5 },
];

describe('encodeRope', () => {
  for (const { rows, heads, headDim, start, partial } of CASES) {
    it(`rotates [${rows}, ${heads}, ${headDim}] from position ${start}${partial < 1 ? ' partially' : ''}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(rows + heads + headDim);
      const xValues = random.normals(rows * heads * headDim);
      const invFreqValues = computeInvFreq({ headDim, ropeTheta: 1_000_000, partialRotaryFactor: partial });
      const x = runtime.allocator.createTensorFrom('x', [rows, heads, headDim], 'f32', xValues);
      const invFreq = runtime.allocator.createTensorFrom('inv_freq', [invFreqValues.length], 'f32', invFreqValues);

      const batch = new ComputeBatch(runtime, 'rope');
      encodeRope(batch, { x, heads, headDim, invFreq, startPosition: start });
      await batch.submit();

      const ref = ropeReference(xValues, heads, headDim, invFreqValues, start);
      expectClose('rope', await readF32(runtime.device, x), ref, ROPE_TOLERANCE);
    });
  }

  it('rotates only the first rows', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(8);
    const [capacity, rows, heads, headDim] = [6, 2, 2, 16];
    const xValues = random.normals(capacity * heads * headDim);
    const invFreqValues = computeInvFreq({ headDim, ropeTheta: 10_000 });
    const x = runtime.allocator.createTensorFrom('x', [capacity, heads * headDim], 'f32', xValues);
    const invFreq = runtime.allocator.createTensorFrom('inv_freq', [invFreqValues.length], 'f32', invFreqValues);

    const batch = new ComputeBatch(runtime, 'rope');
    encodeRope(batch, { x, heads, headDim, invFreq, startPosition: 9, rows });
    await batch.submit();

    const got = await readF32(runtime.device, x);
    const split = rows * heads * headDim;
    expectClose('rotated rows', got.subarray(0, split), ropeReference(xValues.subarray(0, split), heads, headDim, invFreqValues, 9), ROPE_TOLERANCE);
    expectClose('untouched rows', got.subarray(split), xValues.subarray(split), { atol: 0, rtol: 0 });
  });

  it('rejects inv_freq longer than half the head', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const x = runtime.allocator.createTensor('x', [2, 2, 8], 'f32');
    const invFreq = runtime.allocator.createTensor('inv_freq', [5], 'f32');
    const batch = new ComputeBatch(runtime, 'rope');
    expect(() => encodeRope(batch, { x, heads: 2, headDim: 8, invFreq, startPosition: 0 })).toThrow('encodeRope: invFreq length is 5');
  });
});
