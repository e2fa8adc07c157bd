import { elementCount, type Tensor } from '../../gpu/buffers';
import type { ComputeBatch } from '../../gpu/dispatch';
import { composeShader } from '../../gpu/shader';
import ropeWgsl from '../../../shaders/rope.wgsl?raw';
import { checkDType, checkInteger, checkShape, linearGrid } from './kernel';

export const ROPE_WORKGROUP_SIZE = 256;

const OP = 'encodeRope';

/**
 * Records RoPE in place on the first `rows` rows of x (default all) in the rotate-half
 * layout: pairs (i, i + R/2) of the R = 2 · len(invFreq) rotary dimensions of each head,
 * with row r at position startPosition + r. A shorter invFreq rotates part of each head.
 */
export function encodeRope(
  batch: ComputeBatch,
  {
    x,
    heads,
    headDim,
    invFreq,
    startPosition,
    rows = x.shape[0],
  }: { x: Tensor /* [T, heads, D] f32 */; heads: number; headDim: number; invFreq: Tensor /* [D/2] f32 */; startPosition: number; rows?: number },
): void {
  checkDType(OP, 'x', x, ['f32']);
  checkInteger(OP, 'heads', heads, 1);
  checkInteger(OP, 'headDim', headDim, 2);
  const tokens = x.shape[0];
  if (elementCount(x.shape) !== tokens * heads * headDim) {
    throw new Error(`${OP}: x has shape [${x.shape.join(', ')}], expected [${tokens}, ${heads}, ${headDim}] or [${tokens}, ${heads * headDim}]`);
  }
  checkDType(OP, 'invFreq', invFreq, ['f32']);
  checkShape(OP, 'invFreq', invFreq, ['D/2']);
  const halfRotary = invFreq.shape[0];
  checkInteger(OP, 'invFreq length', halfRotary, 1, Math.floor(headDim / 2));
  checkInteger(OP, 'rows', rows, 0, tokens);
  checkInteger(OP, 'startPosition', startPosition, 0, 2 ** 24 - rows); // positions must be exact in f32
  if (rows === 0) return;

  const pipeline = batch.runtime.pipelines.get('rope', composeShader([ropeWgsl]), 'rope', { WORKGROUP_SIZE: ROPE_WORKGROUP_SIZE });
  const params = batch.uniform([
    ['u32', rows],
    ['u32', heads],
    ['u32', headDim],
    ['u32', halfRotary],
    ['u32', startPosition],
  ]);
  batch.dispatch(pipeline, [x.buffer, invFreq.buffer, params], linearGrid(batch, rows * heads * halfRotary, ROPE_WORKGROUP_SIZE), 'rope');
}
