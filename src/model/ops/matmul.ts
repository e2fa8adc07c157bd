import type { RowSplitTensor, Tensor } from '../../gpu/buffers';
import { workgroupGrid, type ComputeBatch } from '../../gpu/dispatch';
import { composeShader } from '../../gpu/shader';
import matmulWgsl from '../../../shaders/matmul_v1_tiled.wgsl?raw';
import matvecWgsl from '../../../shaders/matvec.wgsl?raw';
import { checkDType, checkInteger, checkShape, matrixShape, placeholderBuffer, weightParts, weightSnippet, wgslConstants } from './kernel';

/** Invocations of the tiled kernel along output columns (x) and rows (y). */
export const MATMUL_WORKGROUP_X = 16;
export const MATMUL_WORKGROUP_Y = 16;
/** Outputs per invocation along rows and columns; a tile is 64 x 64 outputs. */
export const MATMUL_THREAD_ROWS = 4;
export const MATMUL_THREAD_COLS = 4;
/** Depth of the staged slices: (64 + 64) * 16 f32 = 8 KiB of workgroup memory. */
export const MATMUL_TILE_K = 16;
export const MATMUL_TILE_ROWS = MATMUL_WORKGROUP_Y * MATMUL_THREAD_ROWS;
export const MATMUL_TILE_COLS = MATMUL_WORKGROUP_X * MATMUL_THREAD_COLS;

/** Invocations per workgroup of the matrix-vector kernel. */
export const MATVEC_WORKGROUP_SIZE = 64;
/**
 * Invocations that share one output row of the matrix-vector kernel (a power of two).
 * Few lanes per row keep the barrier work low, because SwiftShader runs barriers as fiber
 * switches. There the 151,936 × 128 lm_head took about 2 minutes with 256 lanes per row, 4 s
 * with 4 and 1.5 s with 1 (one loaded 2-core machine).
 * TODO: real GPUs read the weight better coalesced with several lanes (or a subgroup) per row;
 * choose this per adapter once it has been measured on one.
 */
export const MATVEC_LANES_PER_ROW = 1;
export const MATVEC_ROWS_PER_WORKGROUP = MATVEC_WORKGROUP_SIZE / MATVEC_LANES_PER_ROW;

const OP = 'encodeMatmul';

/**
 * Records y = x · Wᵀ + b for the first `rows` rows of x (default all). One row uses
 * the matrix-vector kernel of decode, more rows the tiled kernel. A row-split weight
 * is done one dispatch per part, each writing its slice of output columns.
 * x and out may have more than two axes ([T, H, D] is [T, H·D]).
 */
export function encodeMatmul(
  batch: ComputeBatch,
  {
    x,
    weight,
    bias,
    out,
    rows = x.shape[0],
  }: {
    x: Tensor /* [T, in] f32 */;
    weight: Tensor | RowSplitTensor /* [out, in] */;
    bias?: Tensor /* [out] */;
    out: Tensor /* [T, out] f32 */;
    rows?: number;
  },
): void {
  checkShape(OP, 'weight', weight, ['out', 'in']);
  const [outFeatures, inFeatures] = weight.shape;
  checkDType(OP, 'x', x, ['f32']);
  const [xRows, xFeatures] = matrixShape(x);
  if (xFeatures !== inFeatures) {
    throw new Error(`${OP}: x has shape [${x.shape.join(', ')}], expected [T, ${inFeatures}] for a weight of shape [${weight.shape.join(', ')}]`);
  }
  checkDType(OP, 'out', out, ['f32']);
  const [outRows, outColumns] = matrixShape(out);
  if (outColumns !== outFeatures || outRows !== xRows) {
    throw new Error(`${OP}: out has shape [${out.shape.join(', ')}], expected [${xRows}, ${outFeatures}]`);
  }
  checkInteger(OP, 'rows', rows, 1, xRows);
  if (bias) {
    checkShape(OP, 'bias', bias, [outFeatures]);
    weightSnippet(OP, 'bias', bias.dtype);
    if (bias.dtype !== weight.dtype) throw new Error(`${OP}: bias has dtype ${bias.dtype}, expected the weight's dtype ${weight.dtype}`);
  }

  const device = batch.runtime.device;
  const snippet = weightSnippet(OP, 'weight', weight.dtype);
  const biasBinding = bias ? bias.buffer : placeholderBuffer(device);
  const maxPerDimension = device.limits.maxComputeWorkgroupsPerDimension;

  const pipeline =
    rows === 1
      ? batch.runtime.pipelines.get(`matvec ${weight.dtype}`, composeShader([snippet, matvecWgsl]), 'matvec', {
          WORKGROUP_SIZE: MATVEC_WORKGROUP_SIZE,
          LANES_PER_ROW: MATVEC_LANES_PER_ROW,
        })
      : batch.runtime.pipelines.get(
          `matmul_v1_tiled ${weight.dtype}`,
          composeShader([snippet, wgslConstants({ THREAD_ROWS: MATMUL_THREAD_ROWS, THREAD_COLS: MATMUL_THREAD_COLS }), matmulWgsl]),
          'matmul',
          { WORKGROUP_X: MATMUL_WORKGROUP_X, WORKGROUP_Y: MATMUL_WORKGROUP_Y, TILE_K: MATMUL_TILE_K },
        );

  for (const { tensor, rowStart, rowCount } of weightParts(weight)) {
    const params = batch.uniform([
      ['u32', rows],
      ['u32', inFeatures],
      ['u32', rowCount],
      ['u32', outFeatures],
      ['u32', rowStart],
      ['u32', bias ? 1 : 0],
    ]);
    let grid: [number, number];
    if (rows === 1) {
      grid = workgroupGrid(Math.ceil(rowCount / MATVEC_ROWS_PER_WORKGROUP), maxPerDimension);
    } else {
      grid = [Math.ceil(rowCount / MATMUL_TILE_COLS), Math.ceil(rows / MATMUL_TILE_ROWS)];
      if (grid[0] > maxPerDimension || grid[1] > maxPerDimension) {
        throw new Error(`${OP}: a grid of ${grid.join(' x ')} tiles exceeds maxComputeWorkgroupsPerDimension (${maxPerDimension}); split the rows or the weight`);
      }
    }
    batch.dispatch(pipeline, [x.buffer, tensor.buffer, biasBinding, out.buffer, params], grid, rows === 1 ? 'matvec' : 'matmul');
  }
}
