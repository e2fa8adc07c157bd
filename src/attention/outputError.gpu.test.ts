import { describe, expect, it } from 'vitest';
import { expectClose } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { readF32 } from '../gpu/buffers';
import { ComputeBatch } from '../gpu/dispatch';
import { Random } from '../util/random';
import { encodeOutputError } from './outputError';
import { outputErrorReference } from './outputError.ref';

// f32 sums of a few thousand O(1) squares against f64: relative error ~1e-6.
const SUM_TOLERANCE = { atol: 1e-4, rtol: 1e-5 };

describe(`encodeOutputError (${driverName()})`, () => {
  const cases = [
    { T: 37, rows: 37, H: 3, D: 18 },
    { T: 70, rows: 65, H: 2, D: 64 },
    { T: 5, rows: 1, H: 5, D: 128 },
  ];
  for (const { T, rows, H, D } of cases) {
    it(`matches reference: rows ${rows} of ${T}, H ${H}, D ${D}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(T * 7 + H);
      const refData = random.normals(T * H * D, 1);
      const gotData = refData.map((value) => value + 0.1 * random.normal());
      const got = runtime.allocator.createTensorFrom('got', [T, H, D], 'f32', gotData);
      const ref = runtime.allocator.createTensorFrom('ref', [T, H, D], 'f32', refData);
      const sums = runtime.allocator.createTensor('sums', [H, 2], 'f32');
      const batch = new ComputeBatch(runtime, 'output error');
      encodeOutputError(batch, { got, ref, rows, sums });
      await batch.submit();
      const result = await readF32(runtime.device, sums);
      expectClose('error sums', result, outputErrorReference(gotData, refData, rows, H, D), SUM_TOLERANCE);
      expect(result[0]).toBeGreaterThan(0);
      [got, ref, sums].forEach((tensor) => runtime.allocator.destroyTensor(tensor));
    });
  }

  it('rejects a sums tensor of the wrong shape', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const ref = runtime.allocator.createTensor('ref', [4, 2, 8], 'f32');
    const sums = runtime.allocator.createTensor('sums', [2], 'f32');
    const batch = new ComputeBatch(runtime, 'bad output error');
    expect(() => encodeOutputError(batch, { got: ref, ref, rows: 4, sums })).toThrow(/encodeOutputError: sums \("sums"\) must be \[2, 2\] f32, got \[2\] f32/);
    [ref, sums].forEach((tensor) => runtime.allocator.destroyTensor(tensor));
  });
});
