import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { expectClose, relativeL2 } from '../../../test/expectClose';
import { readF32, readU32 } from '../../gpu/buffers';
import { ComputeBatch, type GpuRuntime } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { matmulReference } from './matmul.ref';
import { dequantizeQ8Reference, quantizeQ8Reference } from './quant.ref';
import { encodeLinear, encodeMatmulQ8, q8Layout, quantizeWeight, type Q8GroupSize, type QuantizedWeight } from './quant';
import { uploadWeight, WEIGHT_DTYPES } from './testing';

// Against the dequantized weights the kernels compute the same f32 products as the reference in another
// order (the matrix-vector kernel also applies the scale after summing a word): errors of a few 1e-6 on
// outputs of size ~10 from up to 200 unit-normal terms.
const DEQUANTIZED_TOLERANCE = { atol: 2e-5, rtol: 2e-5 };
// Against the unquantized weights the error is the rounding of int8 itself. For unit normals the step is
// about max|w| / 127 ≈ 2.2 / 127 per group of 32 (2.4 / 127 of 64), an error of step / sqrt(12) ≈ 0.5 %
// per weight that carries over to the outputs' relative L2; 1e-2 bounds it with margin.
const UNQUANTIZED_L2_BOUND = 1e-2;

const GROUP_SIZES: readonly Q8GroupSize[] = [32, 64];

/** Reads a quantized weight's q words and scales, all parts in row order. */
async function readQuantized(runtime: GpuRuntime, weight: QuantizedWeight): Promise<{ packed: Uint32Array; scales: Float32Array }> {
  const packed = new Uint32Array(weight.shape[0] * weight.wordsPerRow);
  const scales = new Float32Array(weight.shape[0] * weight.groupsPerRow);
  for (const part of weight.parts) {
    packed.set(await readU32(runtime.device, part.q), part.rowStart * weight.wordsPerRow);
    scales.set(await readF32(runtime.device, part.scales), part.rowStart * weight.groupsPerRow);
  }
  return { packed, scales };
}

function expectBitExact(name: string, got: Uint32Array | Float32Array, ref: Uint32Array | Float32Array): void {
  const gotBits = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const refBits = new Uint32Array(ref.buffer, ref.byteOffset, ref.length);
  expect(gotBits.length, `${name} length`).toBe(refBits.length);
  const first = gotBits.findIndex((bits, index) => bits !== refBits[index]);
  if (first >= 0) {
    throw new Error(`${name}: first difference at index ${first}: expected 0x${refBits[first].toString(16)}, got 0x${gotBits[first].toString(16)}`);
  }
}

describe('quantizeWeight', () => {
  // 200 and 70 leave a ragged last group for both group sizes, and 70 a half-filled last word.
  const SHAPES = [
    { outFeatures: 37, inFeatures: 200 },
    { outFeatures: 5, inFeatures: 64 },
    { outFeatures: 3, inFeatures: 70 },
  ];
  for (const dtype of WEIGHT_DTYPES) {
    for (const groupSize of GROUP_SIZES) {
      for (const { outFeatures, inFeatures } of SHAPES) {
        it(`matches the reference for ${dtype} [${outFeatures}, ${inFeatures}], groups of ${groupSize}`, async () => {
          const runtime = await gpuRuntime();
          if (!runtime) return;
          const random = new Random(outFeatures * 31 + inFeatures + groupSize);
          const weight = uploadWeight(runtime, 'weight', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures, 0.05), dtype);

          const quantized = quantizeWeight(runtime, weight.tensor, { groupSize });
          const got = await readQuantized(runtime, quantized);

          const ref = quantizeQ8Reference(weight.decoded, outFeatures, inFeatures, groupSize);
          expectBitExact('scales', got.scales, ref.scales);
          expectBitExact('q', got.packed, ref.packed);
          expect(quantized.byteLength).toBe(q8Layout(outFeatures, inFeatures, groupSize).byteLength);
        });
      }
    }
  }

  it('rounds exact ties to even', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    // max|w| = 127 gives scale = f32(127 * f32(1/127)) = 1 exactly, so each x.5 is a tie.
    const values = new Float32Array([127, 2.5, 3.5, -0.5, 1.5, -126.5, 0.5, 125.5, -2.5, 0.75, 0, -1.5]);
    const expected = [127, 2, 4, 0, 2, -126, 0, 126, -2, 1, 0, -2];
    const weight = uploadWeight(runtime, 'ties', [1, values.length], values, 'bf16');

    const quantized = quantizeWeight(runtime, weight.tensor, { groupSize: 32 });
    const got = await readQuantized(runtime, quantized);

    expect(Array.from(got.scales)).toEqual([1]);
    const q = Array.from(new Int8Array(got.packed.buffer).subarray(0, values.length));
    expect(q).toEqual(expected);
    expect(Array.from(quantizeQ8Reference(weight.decoded, 1, values.length, 32).q)).toEqual(expected);
  });

  it('quantizes groups of zeros and of extreme magnitudes', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(17);
    const [outFeatures, inFeatures] = [6, 96];
    const values = random.normals(outFeatures * inFeatures);
    // Row 0 is all zeros; the others span exponents from 2^-100 to 2^100 (normal in bf16 and f32).
    values.fill(0, 0, inFeatures);
    for (let o = 1; o < outFeatures; o++) {
      const factor = 2 ** (o * 40 - 140);
      for (let c = 0; c < inFeatures; c++) values[o * inFeatures + c] *= factor;
    }
    for (const dtype of ['bf16', 'f32'] as const) {
      const weight = uploadWeight(runtime, `wide ${dtype}`, [outFeatures, inFeatures], values, dtype);
      const quantized = quantizeWeight(runtime, weight.tensor, { groupSize: 64 });
      const got = await readQuantized(runtime, quantized);
      const ref = quantizeQ8Reference(weight.decoded, outFeatures, inFeatures, 64);
      expectBitExact(`${dtype} scales`, got.scales, ref.scales);
      expectBitExact(`${dtype} q`, got.packed, ref.packed);
      expect(Array.from(got.scales.subarray(0, 2))).toEqual([0, 0]);
    }
  });

  it('quantizes a row-split weight part by part', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(23);
    const [outFeatures, inFeatures] = [301, 96];
    const weight = uploadWeight(runtime, 'lm_head', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), 'bf16', 40 * inFeatures * 2);

    const quantized = quantizeWeight(runtime, weight.tensor);
    const got = await readQuantized(runtime, quantized);

    expect(quantized.parts.map((part) => part.rowStart)).toEqual(weight.tensor.rowStarts);
    const ref = quantizeQ8Reference(weight.decoded, outFeatures, inFeatures, 32);
    expectBitExact('scales', got.scales, ref.scales);
    expectBitExact('q', got.packed, ref.packed);
  });

  it('rejects an unsupported group size', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const weight = runtime.allocator.createTensor('w', [4, 64], 'bf16');
    expect(() => quantizeWeight(runtime, weight, { groupSize: 48 as Q8GroupSize })).toThrow('quantizeWeight: groupSize is 48, expected one of 32, 64');
  });

  it('rejects a weight that is not a matrix', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const weight = runtime.allocator.createTensor('norm', [64], 'bf16');
    expect(() => quantizeWeight(runtime, weight)).toThrow('quantizeWeight: norm has shape [64], expected [out, in]');
  });
});

describe('encodeMatmulQ8', () => {
  // None a multiple of the 64 x 64 tile; 200 and 70 end in a ragged group, 70 in a half-filled word.
  const SHAPES = [
    { rows: 1, inFeatures: 200, outFeatures: 130 },
    { rows: 37, inFeatures: 200, outFeatures: 130 },
    { rows: 3, inFeatures: 70, outFeatures: 1 },
    { rows: 1, inFeatures: 70, outFeatures: 9 },
    { rows: 70, inFeatures: 64, outFeatures: 65 },
  ];
  for (const groupSize of GROUP_SIZES) {
    for (const { rows, inFeatures, outFeatures } of SHAPES) {
      for (const withBias of [false, true]) {
        it(`multiplies [${rows}, ${inFeatures}] by q8/${groupSize} [${outFeatures}, ${inFeatures}]${withBias ? ' with bias' : ''}`, async () => {
          const runtime = await gpuRuntime();
          if (!runtime) return;
          const random = new Random(rows * 7 + inFeatures * 13 + outFeatures + groupSize + (withBias ? 1 : 0));
          const xValues = random.normals(rows * inFeatures);
          const weight = uploadWeight(runtime, 'weight', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), 'bf16');
          const bias = withBias ? uploadWeight(runtime, 'bias', [outFeatures], random.normals(outFeatures), 'bf16') : undefined;
          const x = runtime.allocator.createTensorFrom('x', [rows, inFeatures], 'f32', xValues);
          const out = runtime.allocator.createTensor('out', [rows, outFeatures], 'f32');

          const batch = new ComputeBatch(runtime, 'matmul q8');
          const quantized = quantizeWeight(batch, weight.tensor, { groupSize });
          encodeMatmulQ8(batch, { x, weight: quantized, bias: bias?.tensor, out });
          await batch.submit();
          const got = await readF32(runtime.device, out);

          const q8 = quantizeQ8Reference(weight.decoded, outFeatures, inFeatures, groupSize);
          const dequantized = dequantizeQ8Reference(q8, outFeatures, inFeatures, groupSize);
          expectClose('q8 matmul vs dequantized', got, matmulReference(xValues, dequantized, bias?.decoded, rows, inFeatures, outFeatures), DEQUANTIZED_TOLERANCE);
          const exact = matmulReference(xValues, weight.decoded, bias?.decoded, rows, inFeatures, outFeatures);
          const error = relativeL2(got, exact);
          console.log(`q8/${groupSize} [${rows}, ${inFeatures}] x [${outFeatures}, ${inFeatures}]: relative L2 vs unquantized ${error.toExponential(2)}`);
          expect(error).toBeLessThan(UNQUANTIZED_L2_BOUND);
        });
      }
    }
  }

  for (const dtype of WEIGHT_DTYPES) {
    it(`multiplies by a q8 weight quantized from ${dtype}`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(71);
      const [rows, inFeatures, outFeatures] = [5, 160, 33];
      const xValues = random.normals(rows * inFeatures);
      const weight = uploadWeight(runtime, 'weight', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), dtype);
      const bias = uploadWeight(runtime, 'bias', [outFeatures], random.normals(outFeatures), dtype);
      const x = runtime.allocator.createTensorFrom('x', [rows, inFeatures], 'f32', xValues);
      const out = runtime.allocator.createTensor('out', [rows, outFeatures], 'f32');

      const batch = new ComputeBatch(runtime, 'matmul q8');
      const quantized = quantizeWeight(batch, weight.tensor);
      encodeLinear(batch, { x, weight: quantized, bias: bias.tensor, out });
      await batch.submit();

      const dequantized = dequantizeQ8Reference(quantizeQ8Reference(weight.decoded, outFeatures, inFeatures, 32), outFeatures, inFeatures, 32);
      const ref = matmulReference(xValues, dequantized, bias.decoded, rows, inFeatures, outFeatures);
      expectClose(`q8 from ${dtype}`, await readF32(runtime.device, out), ref, DEQUANTIZED_TOLERANCE);
    });
  }

  for (const rows of [1, 37]) {
    it(`multiplies ${rows} rows by a row-split q8 weight`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(99 + rows);
      const [inFeatures, outFeatures] = [96, 301];
      const xValues = random.normals(rows * inFeatures);
      // 40 rows of 192 bytes per part: 8 parts, the last one short, none a multiple of the tile.
      const weight = uploadWeight(runtime, 'lm_head', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), 'bf16', 40 * inFeatures * 2);
      const bias = uploadWeight(runtime, 'bias', [outFeatures], random.normals(outFeatures), 'bf16');
      const x = runtime.allocator.createTensorFrom('x', [rows, inFeatures], 'f32', xValues);
      const out = runtime.allocator.createTensor('out', [rows, outFeatures], 'f32');

      const batch = new ComputeBatch(runtime, 'matmul q8');
      const quantized = quantizeWeight(batch, weight.tensor);
      expect(quantized.parts.length).toBe(8);
      encodeMatmulQ8(batch, { x, weight: quantized, bias: bias.tensor, out });
      await batch.submit();

      const dequantized = dequantizeQ8Reference(quantizeQ8Reference(weight.decoded, outFeatures, inFeatures, 32), outFeatures, inFeatures, 32);
      const ref = matmulReference(xValues, dequantized, bias.decoded, rows, inFeatures, outFeatures);
      expectClose('row-split q8 matmul', await readF32(runtime.device, out), ref, DEQUANTIZED_TOLERANCE);
    });
  }

  it('uses only the first rows of x', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(5);
    const [capacity, rows, inFeatures, outFeatures] = [8, 3, 64, 65];
    const xValues = random.normals(capacity * inFeatures);
    const weight = uploadWeight(runtime, 'weight', [outFeatures, inFeatures], random.normals(outFeatures * inFeatures), 'f16');
    const x = runtime.allocator.createTensorFrom('x', [capacity, inFeatures], 'f32', xValues);
    const sentinel = new Float32Array(capacity * outFeatures).fill(-7);
    const out = runtime.allocator.createTensorFrom('out', [capacity, outFeatures], 'f32', sentinel);

    const batch = new ComputeBatch(runtime, 'matmul q8');
    const quantized = quantizeWeight(batch, weight.tensor);
    encodeMatmulQ8(batch, { x, weight: quantized, out, rows });
    await batch.submit();

    const got = await readF32(runtime.device, out);
    const dequantized = dequantizeQ8Reference(quantizeQ8Reference(weight.decoded, outFeatures, inFeatures, 32), outFeatures, inFeatures, 32);
    const ref = matmulReference(xValues, dequantized, undefined, rows, inFeatures, outFeatures);
    expectClose('first rows', got.subarray(0, rows * outFeatures), ref, DEQUANTIZED_TOLERANCE);
    // Rows past `rows` keep their old contents.
    expectClose('untouched rows', got.subarray(rows * outFeatures), sentinel.subarray(rows * outFeatures), { atol: 0, rtol: 0 });
  });

  it('rejects x with the wrong inner size', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const weight = quantizeWeight(runtime, runtime.allocator.createTensor('weight', [5, 64], 'bf16'));
    const x = runtime.allocator.createTensor('x', [2, 63], 'f32');
    const out = runtime.allocator.createTensor('out', [2, 5], 'f32');
    const batch = new ComputeBatch(runtime, 'matmul q8');
    expect(() => encodeMatmulQ8(batch, { x, weight, out })).toThrow('encodeMatmulQ8: x has shape [2, 63], expected [T, 64]');
  });

  it('rejects a bias of the wrong length', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const weight = quantizeWeight(runtime, runtime.allocator.createTensor('weight', [5, 64], 'bf16'));
    const x = runtime.allocator.createTensor('x', [2, 64], 'f32');
    const bias = runtime.allocator.createTensor('bias', [6], 'bf16');
    const out = runtime.allocator.createTensor('out', [2, 5], 'f32');
    const batch = new ComputeBatch(runtime, 'matmul q8');
    expect(() => encodeMatmulQ8(batch, { x, weight, bias, out })).toThrow('encodeMatmulQ8: bias has shape [6], expected [5]');
  });
});
