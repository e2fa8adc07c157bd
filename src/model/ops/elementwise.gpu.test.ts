import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { expectClose } from '../../../test/expectClose';
import { readF32 } from '../../gpu/buffers';
import { ComputeBatch } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { encodeAdd, encodeBiasAdd, encodeSiluMul } from './elementwise';
import { addReference, biasAddReference, siluMulReference } from './elementwise.ref';
import { uploadWeight, WEIGHT_DTYPES } from './testing';


// One f32 rounding of an addition: exact agreement is expected.
const ADD_TOLERANCE = { atol: 0, rtol: 0 };
// The GPU's exp is within a few ulp (WGSL allows 3 + 2|x| ulp): relative errors of about 1e-6.
const SILU_TOLERANCE = { atol: 1e-6, rtol: 1e-5 };

describe('encodeBiasAdd', () => {
  for (const dtype of WEIGHT_DTYPES) {
    it(`adds a ${dtype} bias to [37, 130] in place`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(3);
      const [rows, n] = [37, 130];
      const xValues = random.normals(rows * n);
      const bias = uploadWeight(runtime, 'bias', [n], random.normals(n), dtype);
      const x = runtime.allocator.createTensorFrom('x', [rows, n], 'f32', xValues);

      const batch = new ComputeBatch(runtime, 'bias');
      encodeBiasAdd(batch, { x, bias: bias.tensor });
      await batch.submit();

      expectClose(`bias add ${dtype}`, await readF32(runtime.device, x), biasAddReference(xValues, bias.decoded), ADD_TOLERANCE);
    });
  }
});

describe('encodeSiluMul', () => {
  it('gates [3, 1001] including large negative inputs', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(4);
    const gateValues = random.normals(3 * 1001, 4);
    gateValues[0] = -100; // exp(100) overflows f32
    gateValues[1] = 100;
    const upValues = random.normals(3 * 1001);
    const gate = runtime.allocator.createTensorFrom('gate', [3, 1001], 'f32', gateValues);
    const up = runtime.allocator.createTensorFrom('up', [3, 1001], 'f32', upValues);
    const out = runtime.allocator.createTensor('out', [3, 1001], 'f32');

    const batch = new ComputeBatch(runtime, 'silu');
    encodeSiluMul(batch, { gate, up, out });
    await batch.submit();

    expectClose('silu mul', await readF32(runtime.device, out), siluMulReference(gateValues, upValues), SILU_TOLERANCE);
  });
});

describe('encodeAdd', () => {
  for (const target of ['new', 'a', 'b'] as const) {
    it(`adds [37, 65] into ${target === 'new' ? 'a new tensor' : target}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(5);
      const aValues = random.normals(37 * 65);
      const bValues = random.normals(37 * 65);
      const a = runtime.allocator.createTensorFrom('a', [37, 65], 'f32', aValues);
      const b = runtime.allocator.createTensorFrom('b', [37, 65], 'f32', bValues);
      let out = a;
      if (target === 'b') out = b;
      if (target === 'new') out = runtime.allocator.createTensor('out', [37, 65], 'f32');

      const batch = new ComputeBatch(runtime, 'add');
      encodeAdd(batch, { a, b, out });
      await batch.submit();

      expectClose('add', await readF32(runtime.device, out), addReference(aValues, bValues), ADD_TOLERANCE);
    });
  }

  it('rejects b of another shape', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const a = runtime.allocator.createTensor('a', [2, 3], 'f32');
    const b = runtime.allocator.createTensor('b', [3, 2], 'f32');
    const batch = new ComputeBatch(runtime, 'add');
    expect(() => encodeAdd(batch, { a, b, out: a })).toThrow('encodeAdd: b has shape [3, 2], expected [2, 3]');
  });
});
