import type { RowSplitTensor, Tensor } from '../../gpu/buffers';
import type { ComputeBatch } from '../../gpu/dispatch';
import { composeShader } from '../../gpu/shader';
import embeddingWgsl from '../../../shaders/embedding.wgsl?raw';
import { checkDType, checkShape, linearGrid, weightParts, weightSnippet } from './kernel';

export const EMBEDDING_WORKGROUP_SIZE = 256;

const OP = 'encodeEmbedding';

/**
 * Records the embedding gather out[t, :] = table[tokens[t], :]. A row-split table is
 * gathered one dispatch per part, each writing only the rows whose token falls in it.
 * Rows of tokens >= vocab are written as zeros.
 */
export function encodeEmbedding(
  batch: ComputeBatch,
  { tokens, table, out }: { tokens: Tensor /* [T] u32 */; table: Tensor | RowSplitTensor /* [V, hidden] */; out: Tensor /* [T, hidden] f32 */ },
): void {
  checkDType(OP, 'tokens', tokens, ['u32']);
  checkShape(OP, 'tokens', tokens, ['T']);
  checkShape(OP, 'table', table, ['vocab', 'hidden']);
  const [vocab, hidden] = table.shape;
  const count = tokens.shape[0];
  checkDType(OP, 'out', out, ['f32']);
  checkShape(OP, 'out', out, [count, hidden]);

  const pipeline = batch.runtime.pipelines.get(
    `embedding ${table.dtype}`,
    composeShader([weightSnippet(OP, 'table', table.dtype), embeddingWgsl]),
    'embedding',
    { WORKGROUP_SIZE: EMBEDDING_WORKGROUP_SIZE },
  );
  const grid = linearGrid(batch, count * hidden, EMBEDDING_WORKGROUP_SIZE);
  const parts = weightParts(table);
  parts.forEach(({ tensor, rowStart, rowCount }, index) => {
    const params = batch.uniform([
      ['u32', count],
      ['u32', hidden],
      ['u32', rowStart],
      ['u32', rowCount],
      ['u32', vocab],
      ['u32', index === parts.length - 1 ? 1 : 0],
    ]);
    batch.dispatch(pipeline, [tokens.buffer, tensor.buffer, out.buffer, params], grid, 'embedding');
  });
}
