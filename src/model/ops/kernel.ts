/**
 * Helpers shared by the host side of the non-attention kernels: input checks that
 * throw errors naming the op and tensor, the WGSL snippet that widens each weight
 * dtype, the parts of a row-split tensor, and 1D dispatch grids.
 */
import { elementCount, type DType, type RowSplitTensor, type Tensor } from '../../gpu/buffers';
import { workgroupGrid, type ComputeBatch } from '../../gpu/dispatch';
import weightBf16 from '../../../shaders/weight_bf16.wgsl?raw';
import weightF16 from '../../../shaders/weight_f16.wgsl?raw';
import weightF32 from '../../../shaders/weight_f32.wgsl?raw';

/** Storage types a weight may have; activations are always f32. */
export type WeightDType = 'bf16' | 'f16' | 'f32';

const WEIGHT_SNIPPETS: Record<WeightDType, string> = { bf16: weightBf16, f16: weightF16, f32: weightF32 };

export function isWeightDType(dtype: DType): dtype is WeightDType {
  return dtype === 'bf16' || dtype === 'f16' || dtype === 'f32';
}

/** Returns the WGSL snippet defining `weight_at` and WEIGHT_ELEMENTS_PER_WORD for `dtype`. */
export function weightSnippet(op: string, name: string, dtype: DType): string {
  if (!isWeightDType(dtype)) throw new Error(`${op}: ${name} has dtype ${dtype}, expected bf16, f16 or f32`);
  return WEIGHT_SNIPPETS[dtype];
}

function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Checks a tensor's shape against `expected`, where a string entry names a size the
 * caller does not fix (it only labels the error). Throws an Error naming the op and tensor.
 */
export function checkShape(op: string, name: string, tensor: { shape: readonly number[] }, expected: readonly (number | string)[]): void {
  const matches =
    tensor.shape.length === expected.length && expected.every((size, axis) => typeof size === 'string' || tensor.shape[axis] === size);
  if (!matches) {
    throw new Error(`${op}: ${name} has shape ${formatShape(tensor.shape)}, expected ${formatShape(expected)}`);
  }
}

export function checkDType(op: string, name: string, tensor: { dtype: DType }, allowed: readonly DType[]): void {
  if (!allowed.includes(tensor.dtype)) {
    throw new Error(`${op}: ${name} has dtype ${tensor.dtype}, expected ${allowed.join(' or ')}`);
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(op: string, name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${op}: ${name} is ${value}, expected an integer in [${min}, ${max}]`);
  }
}

/**
 * Views a tensor of rank >= 2 as a matrix [shape[0], product of the other sizes], so
 * [T, H, D] activations can feed a linear layer of H·D inputs.
 */
export function matrixShape(tensor: { shape: readonly number[] }): [number, number] {
  return [tensor.shape[0], elementCount(tensor.shape.slice(1))];
}

/** One buffer of a weight: a whole tensor is a single part starting at row 0. */
export interface WeightPart {
  tensor: Tensor;
  rowStart: number;
  rowCount: number;
}

export function weightParts(weight: Tensor | RowSplitTensor): WeightPart[] {
  if ('parts' in weight) {
    return weight.parts.map((tensor, index) => ({ tensor, rowStart: weight.rowStarts[index], rowCount: tensor.shape[0] }));
  }
  return [{ tensor: weight, rowStart: 0, rowCount: weight.shape[0] }];
}

/** Returns an (x, y) grid of `ceil(invocations / workgroupSize)` workgroups for kernels that use linear_workgroup. */
export function linearGrid(batch: ComputeBatch, invocations: number, workgroupSize: number): [number, number] {
  const workgroups = Math.ceil(invocations / workgroupSize);
  return workgroupGrid(workgroups, batch.runtime.device.limits.maxComputeWorkgroupsPerDimension);
}

/** Declares WGSL `const` u32 values, for sizes that must be compile-time constants (function-scope array lengths). */
export function wgslConstants(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([name, value]) => `const ${name}: u32 = ${value}u;`)
    .join('\n');
}

const placeholders = new WeakMap<GPUDevice, GPUBuffer>();

/**
 * Returns a 16-byte storage buffer to bind where a kernel declares an optional input (a bias)
 * that the call does not have. The kernel then reads a flag and never touches the buffer.
 */
export function placeholderBuffer(device: GPUDevice): GPUBuffer {
  let buffer = placeholders.get(device);
  if (!buffer) {
    buffer = device.createBuffer({ label: 'unused optional input', size: 16, usage: GPUBufferUsage.STORAGE });
    placeholders.set(device, buffer);
  }
  return buffer;
}
