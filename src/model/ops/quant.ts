/**
 * 8-bit weight quantization on the GPU and the matrix kernels that read it.
 *
 * A linear weight [out, in] in bf16, f16 or f32 becomes symmetric per-group int8: groups of
 * `groupSize` (32 or 64) consecutive elements along `in`, one f32 scale per group,
 * scale = max|w| / 127 and q = round(w / scale) in [-127, 127] (exact rounding rule in
 * quant.ref.ts). Bytes per weight are 1 + 4 / groupSize: 1.125 at 32 (0.5625 of bf16's 2) and
 * 1.0625 at 64 (0.53125 of bf16), plus up to 3 bytes of padding per row so rows start on a u32.
 */
import type { RowSplitTensor, Tensor } from '../../gpu/buffers';
import { ComputeBatch, workgroupGrid, type GpuRuntime } from '../../gpu/dispatch';
import { composeShader } from '../../gpu/shader';
import quantizeWgsl from '../../../shaders/quantize_q8.wgsl?raw';
import q8CommonWgsl from '../../../shaders/matmul_q8_common.wgsl?raw';
import matmulQ8Wgsl from '../../../shaders/matmul_q8_v1_tiled.wgsl?raw';
import matvecQ8Wgsl from '../../../shaders/matvec_q8.wgsl?raw';
import { checkDType, checkInteger, checkShape, linearGrid, matrixShape, placeholderBuffer, weightParts, weightSnippet, wgslConstants } from './kernel';
import { encodeMatmul, MATMUL_THREAD_COLS, MATMUL_THREAD_ROWS, MATMUL_TILE_COLS, MATMUL_TILE_K, MATMUL_TILE_ROWS, MATMUL_WORKGROUP_X, MATMUL_WORKGROUP_Y } from './matmul';
import type { WeightDType } from './kernel';

/** Elements per scale. Both are multiples of 4, so every group starts on a whole u32 of q. */
export type Q8GroupSize = 32 | 64;
export const Q8_GROUP_SIZES: readonly Q8GroupSize[] = [32, 64];
export const DEFAULT_Q8_GROUP_SIZE: Q8GroupSize = 32;

/** Invocations per workgroup of the quantize kernel; each invocation quantizes one group. */
export const QUANTIZE_WORKGROUP_SIZE = 64;
/** Invocations per output row of the q8 matrix-vector kernel; a power of two. */
export const MATVEC_Q8_WORKGROUP_SIZE = 256;

/** One part of a quantized weight: rows rowStart .. rowStart + rowCount - 1 of the layer. */
export interface QuantizedPart {
  /** [rowCount, wordsPerRow] u32: int8 values four per word, low byte first, rows padded with zeros to a whole word. */
  q: Tensor;
  /** [rowCount, groupsPerRow] f32. */
  scales: Tensor;
  rowStart: number;
  rowCount: number;
}

/** A linear weight [out, in] quantized to int8 with one f32 scale per group of `groupSize` inputs. */
export interface QuantizedWeight {
  kind: 'q8';
  label: string;
  shape: readonly [number, number];
  groupSize: Q8GroupSize;
  /** ceil(in / 4). */
  wordsPerRow: number;
  /** ceil(in / groupSize); the last group of a row is shorter when in is not a multiple of groupSize. */
  groupsPerRow: number;
  /** The same row ranges as the source weight's parts, so each part is within the binding limit the source was split for. */
  parts: QuantizedPart[];
  /** dtype of the weight it was quantized from. */
  sourceDType: WeightDType;
  /** GPU bytes of all parts' q and scales. */
  byteLength: number;
}

export function isQuantizedWeight(weight: Tensor | RowSplitTensor | QuantizedWeight): weight is QuantizedWeight {
  return 'kind' in weight && weight.kind === 'q8';
}

/** Words and groups per row and the GPU bytes of a [rows, inFeatures] weight quantized with `groupSize`. */
export function q8Layout(rows: number, inFeatures: number, groupSize: Q8GroupSize): { wordsPerRow: number; groupsPerRow: number; byteLength: number } {
  const wordsPerRow = Math.ceil(inFeatures / 4);
  const groupsPerRow = Math.ceil(inFeatures / groupSize);
  return { wordsPerRow, groupsPerRow, byteLength: rows * (wordsPerRow + groupsPerRow) * 4 };
}

const QUANTIZE_OP = 'quantizeWeight';

/**
 * Records the quantization of `weight` (a [out, in] Tensor or RowSplitTensor in bf16, f16 or
 * f32) and returns the quantized weight, whose buffers hold the result once the work has run.
 * Given a runtime, it records into its own batch and submits it; given a batch, the caller
 * submits. The source weight is left as it is: destroy it after submission to free its memory.
 */
export function quantizeWeight(
  target: ComputeBatch | GpuRuntime,
  weight: Tensor | RowSplitTensor,
  options: { groupSize?: Q8GroupSize } = {},
): QuantizedWeight {
  const groupSize = options.groupSize ?? DEFAULT_Q8_GROUP_SIZE;
  if (!Q8_GROUP_SIZES.includes(groupSize)) {
    throw new Error(`${QUANTIZE_OP}: groupSize is ${groupSize}, expected one of ${Q8_GROUP_SIZES.join(', ')}`);
  }
  checkShape(QUANTIZE_OP, weight.label || 'weight', weight, ['out', 'in']);
  checkDType(QUANTIZE_OP, weight.label || 'weight', weight, ['bf16', 'f16', 'f32']);
  const sourceDType = weight.dtype as WeightDType;
  const [outFeatures, inFeatures] = weight.shape;

  const batch = target instanceof ComputeBatch ? target : new ComputeBatch(target, `quantize ${weight.label}`);
  const { device, allocator, pipelines } = batch.runtime;
  const { wordsPerRow, groupsPerRow } = q8Layout(1, inFeatures, groupSize);
  const pipeline = pipelines.get(`quantize_q8 ${sourceDType}`, composeShader([weightSnippet(QUANTIZE_OP, 'weight', sourceDType), quantizeWgsl]), 'quantize_q8', {
    WORKGROUP_SIZE: QUANTIZE_WORKGROUP_SIZE,
  });

  const parts: QuantizedPart[] = [];
  try {
    for (const [index, { tensor, rowStart, rowCount }] of weightParts(weight).entries()) {
      const suffix = 'parts' in weight ? `[part ${index}] q8` : ' q8';
      const q = allocator.createTensor(`${weight.label}${suffix}`, [rowCount, wordsPerRow], 'u32');
      const scales = allocator.createTensor(`${weight.label}${suffix} scales`, [rowCount, groupsPerRow], 'f32');
      parts.push({ q, scales, rowStart, rowCount });
      const limit = device.limits.maxStorageBufferBindingSize;
      if (q.buffer.size > limit) {
        throw new Error(`${QUANTIZE_OP}: part ${index} of ${weight.label} needs ${q.buffer.size} bytes of q8 data, more than the ${limit}-byte storage binding limit`);
      }
      const params = batch.uniform([
        ['u32', rowCount],
        ['u32', inFeatures],
        ['u32', wordsPerRow],
        ['u32', groupsPerRow],
        ['u32', groupSize],
      ]);
      batch.dispatch(pipeline, [tensor.buffer, q.buffer, scales.buffer, params], linearGrid(batch, rowCount * groupsPerRow, QUANTIZE_WORKGROUP_SIZE), 'quantize_q8');
    }
  } catch (error) {
    parts.forEach((part) => {
      allocator.destroyTensor(part.q);
      allocator.destroyTensor(part.scales);
    });
    throw error;
  }
  if (batch !== target) void batch.submit();

  const byteLength = parts.reduce((sum, part) => sum + part.q.buffer.size + part.scales.buffer.size, 0);
  return { kind: 'q8', label: weight.label, shape: [outFeatures, inFeatures], groupSize, wordsPerRow, groupsPerRow, parts, sourceDType, byteLength };
}

/** Destroys the q and scale buffers of every part. */
export function destroyQuantizedWeight(runtime: GpuRuntime, weight: QuantizedWeight): void {
  for (const part of weight.parts) {
    runtime.allocator.destroyTensor(part.q);
    runtime.allocator.destroyTensor(part.scales);
  }
  weight.parts.length = 0;
}

const MATMUL_OP = 'encodeMatmulQ8';

/**
 * Records y = x · Wᵀ + b with W quantized (see quantizeWeight), for the first `rows` rows of x
 * (default all): the q8 matrix-vector kernel for one row, the tiled q8 kernel for more. Each
 * weight is widened to f32 times its group's scale, and sums are accumulated in f32. The bias,
 * when given, stays in its stored dtype. Same contract as encodeMatmul otherwise.
 */
export function encodeMatmulQ8(
  batch: ComputeBatch,
  {
    x,
    weight,
    bias,
    out,
    rows = x.shape[0],
  }: {
    x: Tensor /* [T, in] f32 */;
    weight: QuantizedWeight /* [out, in] q8 */;
    bias?: Tensor /* [out] */;
    out: Tensor /* [T, out] f32 */;
    rows?: number;
  },
): void {
  const [outFeatures, inFeatures] = weight.shape;
  if (weight.kind !== 'q8' || weight.parts.length === 0) {
    throw new Error(`${MATMUL_OP}: weight ${weight.label} is not a live q8 weight (was it destroyed?)`);
  }
  checkDType(MATMUL_OP, 'x', x, ['f32']);
  const [xRows, xFeatures] = matrixShape(x);
  if (xFeatures !== inFeatures) {
    throw new Error(`${MATMUL_OP}: x has shape [${x.shape.join(', ')}], expected [T, ${inFeatures}] for a weight of shape [${weight.shape.join(', ')}]`);
  }
  checkDType(MATMUL_OP, 'out', out, ['f32']);
  const [outRows, outColumns] = matrixShape(out);
  if (outColumns !== outFeatures || outRows !== xRows) {
    throw new Error(`${MATMUL_OP}: out has shape [${out.shape.join(', ')}], expected [${xRows}, ${outFeatures}]`);
  }
  checkInteger(MATMUL_OP, 'rows', rows, 1, xRows);
  for (const [index, part] of weight.parts.entries()) {
    checkShape(MATMUL_OP, `weight part ${index} q`, part.q, [part.rowCount, weight.wordsPerRow]);
    checkShape(MATMUL_OP, `weight part ${index} scales`, part.scales, [part.rowCount, weight.groupsPerRow]);
  }
  if (bias) checkShape(MATMUL_OP, 'bias', bias, [outFeatures]);
  const biasDType = bias ? bias.dtype : 'f32';
  const snippet = weightSnippet(MATMUL_OP, 'bias', biasDType);

  const device = batch.runtime.device;
  const biasBinding = bias ? bias.buffer : placeholderBuffer(device);
  const maxPerDimension = device.limits.maxComputeWorkgroupsPerDimension;
  const pipeline =
    rows === 1
      ? batch.runtime.pipelines.get(`matvec_q8 ${biasDType}`, composeShader([snippet, q8CommonWgsl, matvecQ8Wgsl]), 'matvec_q8', {
          WORKGROUP_SIZE: MATVEC_Q8_WORKGROUP_SIZE,
        })
      : batch.runtime.pipelines.get(
          `matmul_q8_v1_tiled ${biasDType}`,
          composeShader([snippet, q8CommonWgsl, wgslConstants({ THREAD_ROWS: MATMUL_THREAD_ROWS, THREAD_COLS: MATMUL_THREAD_COLS }), matmulQ8Wgsl]),
          'matmul_q8',
          { WORKGROUP_X: MATMUL_WORKGROUP_X, WORKGROUP_Y: MATMUL_WORKGROUP_Y, TILE_K: MATMUL_TILE_K },
        );

  for (const part of weight.parts) {
    const params = batch.uniform([
      ['u32', rows],
      ['u32', inFeatures],
      ['u32', part.rowCount],
      ['u32', outFeatures],
      ['u32', part.rowStart],
      ['u32', bias ? 1 : 0],
      ['u32', weight.wordsPerRow],
      ['u32', weight.groupsPerRow],
      ['u32', weight.groupSize],
    ]);
    let grid: [number, number];
    if (rows === 1) {
      grid = workgroupGrid(part.rowCount, maxPerDimension);
    } else {
      grid = [Math.ceil(part.rowCount / MATMUL_TILE_COLS), Math.ceil(rows / MATMUL_TILE_ROWS)];
      if (grid[0] > maxPerDimension || grid[1] > maxPerDimension) {
        throw new Error(`${MATMUL_OP}: a grid of ${grid.join(' x ')} tiles exceeds maxComputeWorkgroupsPerDimension (${maxPerDimension}); split the rows or the weight`);
      }
    }
    batch.dispatch(pipeline, [x.buffer, part.q.buffer, part.scales.buffer, biasBinding, out.buffer, params], grid, rows === 1 ? 'matvec_q8' : 'matmul_q8');
  }
}

/** A linear layer's weight as the forward may hold it: as stored, or quantized at load. */
export type LinearWeight = Tensor | RowSplitTensor | QuantizedWeight;

/** Records y = x · Wᵀ + b through encodeMatmulQ8 for a quantized weight and encodeMatmul otherwise. */
export function encodeLinear(
  batch: ComputeBatch,
  args: { x: Tensor; weight: LinearWeight; bias?: Tensor; out: Tensor; rows?: number },
): void {
  const { weight } = args;
  if (isQuantizedWeight(weight)) encodeMatmulQ8(batch, { ...args, weight });
  else encodeMatmul(batch, { ...args, weight });
}

/** GPU bytes of a linear weight: its q8 parts, or every buffer of the stored tensor. */
export function linearWeightBytes(weight: LinearWeight): number {
  if (isQuantizedWeight(weight)) return weight.byteLength;
  if ('parts' in weight) return weight.parts.reduce((sum, part) => sum + part.buffer.size, 0);
  return weight.buffer.size;
}
