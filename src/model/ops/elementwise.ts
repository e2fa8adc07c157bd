import { elementCount, type Tensor } from '../../gpu/buffers';
import type { ComputeBatch } from '../../gpu/dispatch';
import { composeShader } from '../../gpu/shader';
import addWgsl from '../../../shaders/add.wgsl?raw';
import biasAddWgsl from '../../../shaders/bias_add.wgsl?raw';
import siluMulWgsl from '../../../shaders/silu_mul.wgsl?raw';
import { checkDType, checkShape, linearGrid, weightSnippet } from './kernel';

/** Invocations per workgroup of every elementwise kernel; one element each. */
export const ELEMENTWISE_WORKGROUP_SIZE = 256;

/** Records x[t, c] += bias[c] in place, for x of shape [T, n] (or any shape whose size is a multiple of n). */
export function encodeBiasAdd(batch: ComputeBatch, { x, bias }: { x: Tensor /* [T, n] f32 */; bias: Tensor /* [n] */ }): void {
  const op = 'encodeBiasAdd';
  checkDType(op, 'x', x, ['f32']);
  checkShape(op, 'bias', bias, ['n']);
  const n = bias.shape[0];
  const elements = elementCount(x.shape);
  if (x.shape[x.shape.length - 1] !== n) {
    throw new Error(`${op}: x has shape [${x.shape.join(', ')}], expected [T, ${n}] for a bias of ${n} elements`);
  }
  const pipeline = batch.runtime.pipelines.get(
    `bias_add ${bias.dtype}`,
    composeShader([weightSnippet(op, 'bias', bias.dtype), biasAddWgsl]),
    'bias_add',
    { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE },
  );
  const params = batch.uniform([
    ['u32', elements],
    ['u32', n],
  ]);
  batch.dispatch(pipeline, [x.buffer, bias.buffer, params], linearGrid(batch, elements, ELEMENTWISE_WORKGROUP_SIZE), 'bias_add');
}

/** Records out = silu(gate) * up, the gate of a SwiGLU MLP. */
export function encodeSiluMul(batch: ComputeBatch, { gate, up, out }: { gate: Tensor /* [T, I] */; up: Tensor /* [T, I] */; out: Tensor /* [T, I] */ }): void {
  const op = 'encodeSiluMul';
  checkDType(op, 'gate', gate, ['f32']);
  checkDType(op, 'up', up, ['f32']);
  checkDType(op, 'out', out, ['f32']);
  checkShape(op, 'up', up, gate.shape);
  checkShape(op, 'out', out, gate.shape);
  if (out.buffer === gate.buffer || out.buffer === up.buffer) {
    throw new Error(`${op}: out must be a buffer apart from gate and up, because WebGPU forbids binding one buffer as both read-only and writable storage`);
  }
  const elements = elementCount(gate.shape);
  const pipeline = batch.runtime.pipelines.get('silu_mul', composeShader([siluMulWgsl]), 'silu_mul', { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE });
  const params = batch.uniform([['u32', elements]]);
  batch.dispatch(pipeline, [gate.buffer, up.buffer, out.buffer, params], linearGrid(batch, elements, ELEMENTWISE_WORKGROUP_SIZE), 'silu_mul');
}

/** Records out = a + b, the residual add. `out` may be `a` or `b`. */
export function encodeAdd(batch: ComputeBatch, { a, b, out }: { a: Tensor; b: Tensor; out: Tensor }): void {
  const op = 'encodeAdd';
  checkDType(op, 'a', a, ['f32']);
  checkDType(op, 'b', b, ['f32']);
  checkDType(op, 'out', out, ['f32']);
  checkShape(op, 'b', b, a.shape);
  checkShape(op, 'out', out, a.shape);
  if (a.buffer === b.buffer) throw new Error(`${op}: a and b are the same buffer; pass two tensors`);
  const elements = elementCount(a.shape);
  const grid = linearGrid(batch, elements, ELEMENTWISE_WORKGROUP_SIZE);
  const code = composeShader([addWgsl]);
  const constants = { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE };
  const params = batch.uniform([['u32', elements]]);
  if (out.buffer === a.buffer || out.buffer === b.buffer) {
    // Addition commutes, so the tensor that is also the output takes the read_write binding.
    const [target, other] = out.buffer === a.buffer ? [a, b] : [b, a];
    const pipeline = batch.runtime.pipelines.get('add_in_place', code, 'add_in_place', constants);
    batch.dispatch(pipeline, [target.buffer, other.buffer, params], grid, 'add');
  } else {
    const pipeline = batch.runtime.pipelines.get('add', code, 'add', constants);
    batch.dispatch(pipeline, [a.buffer, b.buffer, params, out.buffer], grid, 'add');
  }
}
