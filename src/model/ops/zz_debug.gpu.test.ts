import { it } from 'vitest';
import { gpuRuntime } from '../../../test/gpu';
import { readF32 } from '../../gpu/buffers';
import { ComputeBatch } from '../../gpu/dispatch';
import { Random } from '../../util/random';
import { encodeEmbedding } from './embedding';
import { uploadWeight } from './testing';

const MODE = process.env.MODE ?? '';
it('debug', async () => {
  const runtime = (await gpuRuntime())!;
  const random = new Random(11);
  const vocab = 301, hidden = 70;
  const table = MODE.includes('empty') ? { tensor: runtime.allocator.createTensor('t', [vocab, hidden], 'f32') } : uploadWeight(runtime, 'table', [vocab, hidden], random.normals(vocab * hidden), 'f32');
  console.log('uploaded');
  const ids = Uint32Array.from({ length: 37 }, () => random.int(vocab));
  const tokens = MODE.includes('notok') ? runtime.allocator.createTensor('tokens', [ids.length], 'u32') : runtime.allocator.createTensorFrom('tokens', [ids.length], 'u32', ids);
  const out = runtime.allocator.createTensor('out', [ids.length, hidden], 'f32');
  const batch = new ComputeBatch(runtime, 'embedding');
  encodeEmbedding(batch, { tokens, table: table.tensor, out });
  console.log('encoded');
  await batch.submit();
  console.log('submitted');
  console.log((await readF32(runtime.device, out))[0]);
});
