import { elementCount, type Tensor } from '../../gpu/buffers';
import { workgroupGrid, type ComputeBatch } from '../../gpu/dispatch';
import { composeShader } from '../../gpu/shader';
import rmsNormWgsl from '../../../shaders/rmsnorm.wgsl?raw';
import { checkDType, checkShape, weightSnippet } from './kernel';

/** Threads per run; a power of two for the tree reduction. */
export const RMSNORM_WORKGROUP_SIZE = 256;

const OP = 'encodeRmsNorm';

/**
 * Records RMSNorm over every consecutive run of n = weight length elements of x:
 * out = x * rsqrt(mean(x²) + eps) * weight, in f32. A [T, H·D] x with a [D] weight is
 * the per-head q/k norm of Qwen3. `out` may be `x` itself.
 */
export function encodeRmsNorm(
  batch: ComputeBatch,
  { x, weight, eps, out }: { x: Tensor; weight: Tensor /* [n] */; eps: number; out: Tensor /* same shape as x */ },
): void {
  checkDType(OP, 'x', x, ['f32']);
  checkShape(OP, 'weight', weight, ['n']);
  const n = weight.shape[0];
  const elements = elementCount(x.shape);
  if (n === 0 || elements % n !== 0) {
    throw new Error(`${OP}: x has shape [${x.shape.join(', ')}] (${elements} elements), not a whole number of runs of the weight's ${n} elements`);
  }
  checkDType(OP, 'out', out, ['f32']);
  checkShape(OP, 'out', out, x.shape);
  if (!(eps >= 0)) throw new Error(`${OP}: eps is ${eps}, expected a number >= 0`);

  const inPlace = out.buffer === x.buffer;
  const entryPoint = inPlace ? 'rms_norm_in_place' : 'rms_norm';
  const pipeline = batch.runtime.pipelines.get(
    `${entryPoint} ${weight.dtype}`,
    composeShader([weightSnippet(OP, 'weight', weight.dtype), rmsNormWgsl]),
    entryPoint,
    { WORKGROUP_SIZE: RMSNORM_WORKGROUP_SIZE },
  );
  const runs = elements / n;
  const params = batch.uniform([
    ['u32', runs],
    ['u32', n],
    ['f32', eps],
  ]);
  const bindings = inPlace ? [x.buffer, weight.buffer, params] : [x.buffer, weight.buffer, params, out.buffer];
  batch.dispatch(pipeline, bindings, workgroupGrid(runs, batch.runtime.device.limits.maxComputeWorkgroupsPerDimension), 'rms_norm');
}
