import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { expectClose } from '../../../test/expectClose';
import { readF32 } from '../../gpu/buffers';
import { ComputeBatch } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { encodeEmbedding } from './embedding';
import { embeddingReference } from './embedding.ref';
import { uploadWeight, WEIGHT_DTYPES } from './testing';

// A gather copies stored values, so the result must match the decoded table exactly.

const EXACT = { atol: 0, rtol: 0 };

describe('encodeEmbedding', () => {
  for (const dtype of WEIGHT_DTYPES) {
    it(`gathers ${dtype} rows for 37 tokens`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const random = new Random(11);
      const vocab = 301;
      const hidden = 70;
      const table = uploadWeight(runtime, 'table', [vocab, hidden], random.normals(vocab * hidden), dtype);
      const ids = Uint32Array.from({ length: 37 }, () => random.int(vocab));
      ids[5] = vocab + 3; // out of range: a zero row
      const tokens = runtime.allocator.createTensorFrom('tokens', [ids.length], 'u32', ids);
      const out = runtime.allocator.createTensor('out', [ids.length, hidden], 'f32');

      const batch = new ComputeBatch(runtime, 'embedding');
      encodeEmbedding(batch, { tokens, table: table.tensor, out });
      await batch.submit();

      expectClose(`embedding ${dtype}`, await readF32(runtime.device, out), embeddingReference(ids, table.decoded, vocab, hidden), EXACT);
    });
  }

  it('gathers from a row-split bf16 table', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const random = new Random(12);
    const vocab = 1001;
    const hidden = 64;
    // 7 rows of 128 bytes per part forces 143 parts.
    const table = uploadWeight(runtime, 'table', [vocab, hidden], random.normals(vocab * hidden), 'bf16', 7 * hidden * 2);
    expect(table.tensor.parts.length).toBe(143);
    const ids = Uint32Array.from({ length: 3 }, () => random.int(vocab));
    const tokens = runtime.allocator.createTensorFrom('tokens', [ids.length], 'u32', ids);
    const out = runtime.allocator.createTensor('out', [ids.length, hidden], 'f32');

    const batch = new ComputeBatch(runtime, 'embedding');
    encodeEmbedding(batch, { tokens, table: table.tensor, out });
    await batch.submit();

    expectClose('row-split embedding', await readF32(runtime.device, out), embeddingReference(ids, table.decoded, vocab, hidden), EXACT);
  });

  it('gathers from a table above 128 MiB', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const vocab = 33_000;
    const hidden = 1024;
    // Filled by a formula: 135 MB of Box-Muller samples would take longer than the gather.
    const values = new Float32Array(vocab * hidden);
    for (let i = 0; i < values.length; i++) values[i] = ((i * 2654435761) % 1000003) / 1000003 - 0.5;
    // lavapipe's own limit is 128 MiB; SwiftShader allows 1 GiB, so the limit is passed to split there too.
    const maxBindingBytes = Math.min(runtime.device.limits.maxStorageBufferBindingSize, 2 ** 27);
    const table = uploadWeight(runtime, 'big table', [vocab, hidden], values, 'f32', maxBindingBytes);
    expect(table.tensor.parts.length).toBe(2);
    const ids = new Uint32Array([0, vocab - 1, table.tensor.rowStarts[1] - 1, table.tensor.rowStarts[1], 12345]);
    const tokens = runtime.allocator.createTensorFrom('tokens', [ids.length], 'u32', ids);
    const out = runtime.allocator.createTensor('out', [ids.length, hidden], 'f32');

    const batch = new ComputeBatch(runtime, 'embedding');
    encodeEmbedding(batch, { tokens, table: table.tensor, out });
    await batch.submit();

    expectClose('embedding above 128 MiB', await readF32(runtime.device, out), embeddingReference(ids, values, vocab, hidden), EXACT);
    runtime.allocator.destroyTensor(table.tensor);
  });

  it('rejects an out tensor of the wrong shape', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const tokens = runtime.allocator.createTensor('tokens', [4], 'u32');
    const table = runtime.allocator.createTensor('table', [10, 8], 'f32');
    const out = runtime.allocator.createTensor('out', [4, 9], 'f32');
    const batch = new ComputeBatch(runtime, 'embedding');
    expect(() => encodeEmbedding(batch, { tokens, table, out })).toThrow('encodeEmbedding: out has shape [4, 9], expected [4, 8]');
  });
});
