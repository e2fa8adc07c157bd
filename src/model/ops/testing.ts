/** Test helpers for the op tests: weights in each storage dtype with the exact values the GPU reads. */
import type { RowSplitTensor, Tensor } from '../../gpu/buffers';
import type { GpuRuntime } from '../../gpu/dispatch';
import { decode16, encode16 } from '../../util/halfFloat';
import type { WeightDType } from './kernel';

export const WEIGHT_DTYPES: readonly WeightDType[] = ['bf16', 'f16', 'f32'];

/**
 * Uploads `values` as a weight of `dtype` and returns it with the decoded values, so a
 * reference computes with the same rounded weights and quantization is not part of the error.
 * With `maxBindingBytes` the weight is row-split at that limit.
 */
export function uploadWeight(
  runtime: GpuRuntime,
  label: string,
  shape: readonly number[],
  values: Float32Array,
  dtype: WeightDType,
): { tensor: Tensor; decoded: Float32Array };
export function uploadWeight(
  runtime: GpuRuntime,
  label: string,
  shape: readonly number[],
  values: Float32Array,
  dtype: WeightDType,
  maxBindingBytes: number,
): { tensor: RowSplitTensor; decoded: Float32Array };
export function uploadWeight(
  runtime: GpuRuntime,
  label: string,
  shape: readonly number[],
  values: Float32Array,
  dtype: WeightDType,
  maxBindingBytes?: number,
): { tensor: Tensor | RowSplitTensor; decoded: Float32Array } {
  const bits = dtype === 'f32' ? values : encode16(values, dtype);
  const decoded = dtype === 'f32' ? values : decode16(bits as Uint16Array, dtype);
  const tensor =
    maxBindingBytes === undefined
      ? runtime.allocator.createTensorFrom(label, shape, dtype, bits)
      : runtime.allocator.createRowSplitTensor(label, shape, dtype, bits, maxBindingBytes);
  return { tensor, decoded };
}
