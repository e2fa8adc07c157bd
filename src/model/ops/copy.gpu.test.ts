import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { expectClose } from '../../../test/expectClose';
import { readF32 } from '../../gpu/buffers';
import { ComputeBatch } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { encodeCopyRows } from './copy';


describe('encodeCopyRows', () => {
  it('copies the last row into row 1 of dst', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(1);
    const srcValues = random.normals(5 * 7);
    const src = runtime.allocator.createTensorFrom('hidden', [5, 7], 'f32', srcValues);
    const dst = runtime.allocator.createTensorFrom('last', [2, 7], 'f32', new Float32Array(14));

    const batch = new ComputeBatch(runtime, 'copy');
    encodeCopyRows(batch, { src, srcRow: 4, rows: 1, dst, dstRow: 1 });
    await batch.submit();

    // A plain copy: row 0 stays zero, row 1 is src row 4 bit for bit.
    const expected = new Float32Array(14);
    expected.set(srcValues.subarray(28, 35), 7);
    expectClose('copied rows', await readF32(runtime.device, dst), expected, { atol: 0, rtol: 0 });
  });

  it('rejects rows past the end of src', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const src = runtime.allocator.createTensor('src', [5, 8], 'f32');
    const dst = runtime.allocator.createTensor('dst', [5, 8], 'f32');
    const batch = new ComputeBatch(runtime, 'copy');
    expect(() => encodeCopyRows(batch, { src, srcRow: 4, rows: 2, dst })).toThrow('encodeCopyRows: srcRow is 4, expected an integer in [0, 3]');
  });
});
