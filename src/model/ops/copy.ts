import { BYTES_PER_ELEMENT, elementCount, type Tensor } from '../../gpu/buffers';
import type { ComputeBatch } from '../../gpu/dispatch';
import { checkInteger } from './kernel';

const OP = 'encodeCopyRows';

/**
 * Records a copy of `rows` rows of src, starting at `srcRow`, to dst starting at `dstRow`
 * (default 0), for example the last position's hidden state before the lm_head.
 * Both tensors need the same dtype and row size, and a row must be a multiple of 4 bytes.
 */
export function encodeCopyRows(
  batch: ComputeBatch,
  { src, srcRow, rows, dst, dstRow = 0 }: { src: Tensor; srcRow: number; rows: number; dst: Tensor; dstRow?: number },
): void {
  const rowElements = elementCount(src.shape.slice(1));
  const dstRowElements = elementCount(dst.shape.slice(1));
  if (src.dtype !== dst.dtype || rowElements !== dstRowElements) {
    throw new Error(
      `${OP}: dst has shape [${dst.shape.join(', ')}] ${dst.dtype}, expected rows of ${rowElements} ${src.dtype} elements like src [${src.shape.join(', ')}]`,
    );
  }
  const rowBytes = rowElements * BYTES_PER_ELEMENT[src.dtype];
  if (rowBytes % 4 !== 0) throw new Error(`${OP}: a row of src is ${rowBytes} bytes, but copyBufferToBuffer needs a multiple of 4`);
  checkInteger(OP, 'rows', rows, 0);
  checkInteger(OP, 'srcRow', srcRow, 0, src.shape[0] - rows);
  checkInteger(OP, 'dstRow', dstRow, 0, dst.shape[0] - rows);
  if (rows === 0) return;
  if (src.buffer === dst.buffer) throw new Error(`${OP}: src and dst are the same buffer, which copyBufferToBuffer forbids`);
  batch.encoder.copyBufferToBuffer(src.buffer, srcRow * rowBytes, dst.buffer, dstRow * rowBytes, rows * rowBytes);
}
