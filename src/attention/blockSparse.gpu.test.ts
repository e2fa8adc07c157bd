import { describe, expect, it } from 'vitest';
import { expectClose, relativeL2 } from '../../test/expectClose';
import { driverName, gpuRuntime } from '../../test/gpu';
import { readF32 } from '../gpu/buffers';
import { ComputeBatch } from '../gpu/dispatch';
import { Random } from '../util/random';
import { blockSparseAttentionReference, encodeBlockSparseAttention, uploadBlockMasks, type HeadBlockMasks } from './blockSparse';
import { encodeKvWrite } from './kvWrite';
import { blockMaskFromLists, numBlocks, type BlockMask } from './metrics';
import { denseAttentionReference } from './reference';
import { randomInputs, roundToCache, sliceRows } from './testInputs';
import { createCache, destroyCache } from './testKit';
import type { AttentionShape } from './types';

// f32 online softmax against the f64 reference over at most 45 keys of O(1) values.
const F32_ATTENTION = { atol: 1e-4, rtol: 1e-4 };

/**
 * A random mask: each query block lists each causal key block, and the block after the diagonal
 * (which no row may see), with probability `keep`. The diagonal block is sometimes left out and
 * block 1 is always empty, so rows with no key occur.
 */
function randomMask(seed: number, N: number, blockSize: number, keep: number): BlockMask {
  const random = new Random(seed);
  const lists: number[][] = [];
  for (let qb = 0; qb < numBlocks(N, blockSize); qb++) {
    const list: number[] = [];
    const last = Math.min(qb + 1, numBlocks(N, blockSize) - 1);
    for (let kb = 0; kb <= last; kb++) if (qb !== 1 && random.next() < keep) list.push(kb);
    lists.push(list);
  }
  return blockMaskFromLists(N, blockSize, lists);
}

interface Case {
  name: string;
  shape: AttentionShape;
  dtype: 'f32' | 'f16';
  blockSize: number;
  perHead: boolean;
}

const cases: Case[] = [
  // A block of 20 rows spans two 16-row workgroups, the second mostly inactive.
  { name: 'per-head masks, block 20', shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f32', blockSize: 20, perHead: true },
  { name: 'shared mask, block 8', shape: { numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype: 'f16', blockSize: 8, perHead: false },
  { name: 'per-head masks, block 12', shape: { numHeads: 2, numKvHeads: 1, headDim: 128 }, dtype: 'f16', blockSize: 12, perHead: true },
  { name: 'shared mask, block 32', shape: { numHeads: 2, numKvHeads: 1, headDim: 128 }, dtype: 'f32', blockSize: 32, perHead: false },
];

describe(`encodeBlockSparseAttention (${driverName()})`, () => {
  for (const { name, shape, dtype, blockSize, perHead } of cases) {
    it(`matches reference: ${name}, H ${shape.numHeads}/${shape.numKvHeads}, D ${shape.headDim}, ${dtype} cache`, async () => {
      const runtime = await gpuRuntime();
      if (!runtime) return;
      const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
      const N = 45;
      const inputs = randomInputs(17, N, shape, { std: 1.2 });
      const k = roundToCache(inputs.k, dtype);
      const v = roundToCache(inputs.v, dtype);
      const masks: HeadBlockMasks = perHead
        ? Array.from({ length: H }, (_, h) => randomMask(100 + h, N, blockSize, 0.6))
        : randomMask(7, N, blockSize, 0.6);
      const expected = blockSparseAttentionReference(inputs.q, k, v, N, shape, masks);

      const cache = createCache(runtime, shape, N + 5, dtype);
      // Chunks of 19, 1 and 25 rows: none aligned to the block or the 16-row tile.
      const chunks = [
        [0, 19],
        [19, 20],
        [20, 45],
      ];
      const got = new Float32Array(N * H * D);
      for (const [start, end] of chunks) {
        const rows = end - start;
        const kTensor = runtime.allocator.createTensorFrom('k', [rows, Hkv, D], 'f32', sliceRows(inputs.k, start, end, Hkv * D));
        const vTensor = runtime.allocator.createTensorFrom('v', [rows, Hkv, D], 'f32', sliceRows(inputs.v, start, end, Hkv * D));
        const q = runtime.allocator.createTensorFrom('q', [rows, H, D], 'f32', sliceRows(inputs.q, start, end, H * D));
        const out = runtime.allocator.createTensor('out', [rows, H, D], 'f32');
        const batch = new ComputeBatch(runtime, 'block-sparse prefill');
        encodeKvWrite(batch, { k: kTensor, v: vTensor, cache, start, rows });
        const call = encodeBlockSparseAttention(batch, { q, cache, start, rows, shape, mask: masks, out });
        await batch.submit();
        call.dispose();
        got.set(await readF32(runtime.device, out), start * H * D);
        for (const tensor of [kTensor, vTensor, q, out]) runtime.allocator.destroyTensor(tensor);
      }
      expectClose(`block-sparse ${name} ${dtype} D${D}`, got, expected, F32_ATTENTION);
      expect(relativeL2(got, expected)).toBeLessThan(1e-5);
      // Query block 1 lists nothing, so its rows are exactly zero.
      expect(Array.from(got.subarray(blockSize * H * D, Math.min(2 * blockSize, N) * H * D)).every((x) => x === 0)).toBe(true);
      destroyCache(runtime, cache);
    });
  }

  it('equals dense attention with every causal block listed', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 4, numKvHeads: 2, headDim: 64 };
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
    const N = 37;
    const blockSize = 10;
    const inputs = randomInputs(5, N, shape, { std: 1.2 });
    const expected = denseAttentionReference(inputs.q, inputs.k, inputs.v, N, shape);
    const lists = Array.from({ length: numBlocks(N, blockSize) }, (_, qb) => Array.from({ length: qb + 1 }, (_, kb) => kb));
    const cache = createCache(runtime, shape, N, 'f32');
    const kTensor = runtime.allocator.createTensorFrom('k', [N, Hkv, D], 'f32', inputs.k);
    const vTensor = runtime.allocator.createTensorFrom('v', [N, Hkv, D], 'f32', inputs.v);
    const q = runtime.allocator.createTensorFrom('q', [N, H, D], 'f32', inputs.q);
    const out = runtime.allocator.createTensor('out', [N, H, D], 'f32');
    const batch = new ComputeBatch(runtime, 'block-sparse dense mask');
    encodeKvWrite(batch, { k: kTensor, v: vTensor, cache, start: 0, rows: N });
    // Uploaded once and passed as buffers, as a benchmark that repeats the call does.
    const mask = uploadBlockMasks(batch, blockMaskFromLists(N, blockSize, lists), H);
    encodeBlockSparseAttention(batch, { q, cache, start: 0, rows: N, shape, mask, out });
    await batch.submit();
    expectClose('block-sparse full mask', await readF32(runtime.device, out), expected, F32_ATTENTION);
    mask.destroy();
    for (const tensor of [kTensor, vTensor, q, out]) runtime.allocator.destroyTensor(tensor);
    destroyCache(runtime, cache);
  });

  it('rejects bad masks and shapes', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const shape = { numHeads: 4, numKvHeads: 2, headDim: 64 };
    const cache = createCache(runtime, shape, 16, 'f32');
    const q = runtime.allocator.createTensor('q', [8, 4, 64], 'f32');
    const badQ = runtime.allocator.createTensor('q', [8, 2, 64], 'f32');
    const mask = randomMask(1, 16, 4, 1);
    const batch = new ComputeBatch(runtime, 'block-sparse bad inputs');
    const call = (args: Partial<Parameters<typeof encodeBlockSparseAttention>[1]>) => () =>
      encodeBlockSparseAttention(batch, { q, cache, start: 0, rows: 8, shape, mask, out: q, ...args });
    expect(call({ q: badQ })).toThrow(/encodeBlockSparseAttention: q \("q"\) must be \[T >= 8, 4, 64\] f32, got \[8, 2, 64\] f32/);
    expect(call({ mask: [mask, mask] })).toThrow(/2 per-head block masks, expected 4/);
    expect(call({ mask: randomMask(1, 6, 4, 1) })).toThrow(/the mask covers 6 rows, but the chunk reaches position 7/);
    expect(call({ mask: [mask, mask, mask, randomMask(2, 16, 8, 1)] })).toThrow(/mask of head 3 has blockSize 8/);
    expect(call({ start: 12 })).toThrow(/past the KV cache capacity 16/);
    for (const tensor of [q, badQ]) runtime.allocator.destroyTensor(tensor);
    destroyCache(runtime, cache);
  });
});
