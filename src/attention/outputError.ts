/** Per-head squared-error sums of an attention output against a reference (shaders/attention_error.wgsl). */
import type { Tensor } from '../gpu/buffers';
import type { ComputeBatch } from '../gpu/dispatch';
import errorKernel from '../../shaders/attention_error.wgsl?raw';
import { composeShader } from '../gpu/shader';
import { checkInteger, checkRows, checkTensor } from './kernelSupport';

/** Threads per workgroup (one workgroup per head); a power of two for the tree reduction. */
export const OUTPUT_ERROR_WORKGROUP_SIZE = 64;

export interface OutputErrorArgs {
  /** [T >= rows, H, D] f32, e.g. the sparse output. */
  got: Tensor;
  /** [T >= rows, H, D] f32, e.g. the dense output. */
  ref: Tensor;
  rows: number;
  /** Output, [H, 2] f32: per head Σ (got − ref)² and Σ ref². */
  sums: Tensor;
}

/** Records the per-head sums over the first `rows` rows. */
export function encodeOutputError(batch: ComputeBatch, { got, ref, rows, sums }: OutputErrorArgs): void {
  const op = 'encodeOutputError';
  const [, H, D] = ref.shape;
  checkInteger(op, 'rows', rows, 1);
  if (ref.shape.length !== 3) throw new Error(`${op}: ref ("${ref.label}") must be [T, H, D] f32, got [${ref.shape.join(', ')}]`);
  checkRows(op, 'ref', ref, rows, [H, D], 'f32');
  checkRows(op, 'got', got, rows, [H, D], 'f32');
  checkTensor(op, 'sums', sums, [H, 2], 'f32');
  const pipeline = batch.runtime.pipelines.get('attention_error', composeShader([errorKernel]), 'main', { WORKGROUP_SIZE: OUTPUT_ERROR_WORKGROUP_SIZE });
  const uniform = batch.uniform([
    ['u32', rows],
    ['u32', H],
    ['u32', D],
  ]);
  batch.dispatch(pipeline, [uniform, got.buffer, ref.buffer, sums.buffer], [H]);
}
