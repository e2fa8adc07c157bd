/**
 * Block-sparse prefill attention over a BlockMask (shaders/block_sparse_attention.wgsl): each query
 * block of `blockSize` rows runs the flash tile loop of the dense and AnchorAttention kernels over the
 * key blocks its mask lists, with the causal mask inside the diagonal block. It runs the block masks
 * of the baselines (FlexPrefill, XAttention) on the same kernel skeleton as AnchorAttention, so a
 * speed comparison measures the selection and not the kernel.
 *
 * The file also contains the TypeScript reference of the op and the upload of masks as u32 buffers.
 */
import type { Tensor } from '../gpu/buffers';
import type { ComputeBatch } from '../gpu/dispatch';
import blockSparseKernel from '../../shaders/block_sparse_attention.wgsl?raw';
import { FLASH_BLOCK_M, checkInteger, checkRows, checkShape, composeCacheReader, flashConstants } from './kernelSupport';
import { checkBlockMask, numBlocks, selectionFromBlockMask, sparseAttentionFromSelection, type BlockMask } from './metrics';
import type { AttentionShape, LayerKvCache } from './types';

/**
 * The block mask of an attention call: one BlockMask shared by every query head, or an array with
 * one BlockMask per query head (index h for head h). All masks have the same blockSize and numRows.
 */
export type HeadBlockMasks = BlockMask | readonly BlockMask[];

/** A mask uploaded as u32 buffers in the kernel's layout. */
export interface BlockMaskBuffers {
  blockSize: number;
  numRows: number;
  /** 1 for a mask shared by all heads, else the number of heads. */
  heads: number;
  /** [heads, Q + 1] u32: CSR offsets of each head's query blocks into keyBlocks (absolute, not per head). */
  offsets: Tensor;
  /** [nnz] u32 (at least one element): the key blocks of every head and query block, concatenated. */
  keyBlocks: Tensor;
  /** Listed (query block, key block) pairs over all heads, for reports. */
  listedBlocks: number;
  destroy(): void;
}

function maskList(masks: HeadBlockMasks): readonly BlockMask[] {
  return Array.isArray(masks) ? masks : [masks as BlockMask];
}

/**
 * Checks a shared or per-head mask set: every mask valid, one blockSize and numRows, and one mask
 * per query head when given as an array. Returns the masks as a list.
 */
export function checkHeadBlockMasks(op: string, masks: HeadBlockMasks, numHeads: number): readonly BlockMask[] {
  const list = maskList(masks);
  if (Array.isArray(masks) && list.length !== numHeads) {
    throw new Error(`${op}: mask has ${list.length} per-head block masks, expected ${numHeads} (one per query head) or one shared BlockMask`);
  }
  if (list.length === 0) throw new Error(`${op}: mask is an empty list`);
  const { blockSize, numRows } = list[0];
  list.forEach((mask, h) => {
    if (mask.blockSize !== blockSize || mask.numRows !== numRows) {
      throw new Error(
        `${op}: mask of head ${h} has blockSize ${mask.blockSize} and numRows ${mask.numRows}, expected ${blockSize} and ${numRows} as head 0`,
      );
    }
    checkBlockMask(`${op} (mask of head ${h})`, mask);
  });
  return list;
}

/** Uploads a shared or per-head mask set as the kernel's u32 buffers. */
export function uploadBlockMasks(batch: ComputeBatch, masks: HeadBlockMasks, numHeads: number): BlockMaskBuffers {
  const op = 'uploadBlockMasks';
  const list = checkHeadBlockMasks(op, masks, numHeads);
  const { blockSize, numRows } = list[0];
  const queryBlocks = numBlocks(numRows, blockSize);
  const offsets = new Uint32Array(list.length * (queryBlocks + 1));
  let total = 0;
  list.forEach((mask, h) => {
    for (let qb = 0; qb <= queryBlocks; qb++) offsets[h * (queryBlocks + 1) + qb] = total + mask.rowBlockOffsets[qb];
    total += mask.keyBlocks.length;
  });
  // A zero-length storage binding is invalid, so an all-empty mask still gets one (unread) element.
  const keyBlocks = new Uint32Array(Math.max(1, total));
  let at = 0;
  for (const mask of list) {
    keyBlocks.set(mask.keyBlocks, at);
    at += mask.keyBlocks.length;
  }
  const allocator = batch.runtime.allocator;
  const offsetsTensor = allocator.createTensorFrom('block mask offsets', [list.length, queryBlocks + 1], 'u32', offsets);
  const keyBlocksTensor = allocator.createTensorFrom('block mask key blocks', [keyBlocks.length], 'u32', keyBlocks);
  return {
    blockSize,
    numRows,
    heads: list.length,
    offsets: offsetsTensor,
    keyBlocks: keyBlocksTensor,
    listedBlocks: total,
    destroy: () => {
      allocator.destroyTensor(offsetsTensor);
      allocator.destroyTensor(keyBlocksTensor);
    },
  };
}

export interface BlockSparseArgs {
  /** Queries of the chunk, [T, H, D] f32; the first `rows` rows are computed. */
  q: Tensor;
  /** KV cache already holding keys 0 .. start + rows - 1. */
  cache: LayerKvCache;
  /** Absolute position of query row 0. */
  start: number;
  rows: number;
  shape: AttentionShape;
  /**
   * Block mask over absolute positions (numRows >= start + rows): one BlockMask shared by all heads,
   * an array of one per query head, or masks already uploaded with uploadBlockMasks (reusable across calls).
   */
  mask: HeadBlockMasks | BlockMaskBuffers;
  /** Output, [T, H, D] f32; rows past `rows` are left untouched. */
  out: Tensor;
  /** Profiler label of the pass. */
  timing?: string;
}

function isUploaded(mask: BlockSparseArgs['mask']): mask is BlockMaskBuffers {
  return 'offsets' in mask && 'destroy' in mask;
}

/**
 * Records block-sparse causal attention for `rows` query rows at positions start .. start + rows - 1:
 * the row at position p attends the keys j <= p of the key blocks listed for query block
 * floor(p / blockSize), with GQA and scale 1/sqrt(D). A row with no such key outputs zeros.
 * Masks passed as BlockMask objects are uploaded into temporaries: call the returned dispose()
 * after the batch has completed (it does nothing for masks passed as BlockMaskBuffers).
 */
export function encodeBlockSparseAttention(batch: ComputeBatch, args: BlockSparseArgs): { dispose(): void } {
  const { q, cache, start, rows, shape, out, timing } = args;
  const op = 'encodeBlockSparseAttention';
  checkShape(op, shape, cache);
  const { numHeads, numKvHeads, headDim } = shape;
  checkInteger(op, 'rows', rows, 0);
  checkInteger(op, 'start', start, 0);
  if (start + rows > cache.capacity) {
    throw new Error(`${op}: rows at positions ${start} .. ${start + rows - 1} need keys past the KV cache capacity ${cache.capacity}`);
  }
  checkRows(op, 'q', q, rows, [numHeads, headDim], 'f32');
  checkRows(op, 'out', out, rows, [numHeads, headDim], 'f32');
  let uploaded: BlockMaskBuffers;
  let owned: BlockMaskBuffers | undefined;
  if (isUploaded(args.mask)) {
    uploaded = args.mask;
    if (uploaded.heads !== 1 && uploaded.heads !== numHeads) {
      throw new Error(`${op}: uploaded mask covers ${uploaded.heads} heads, expected 1 (shared) or ${numHeads}`);
    }
  } else {
    // Checked before the upload, so that a rejected call allocates nothing.
    const maskRows = checkHeadBlockMasks(op, args.mask, numHeads)[0].numRows;
    if (start + rows > maskRows) {
      throw new Error(`${op}: the mask covers ${maskRows} rows, but the chunk reaches position ${start + rows - 1}`);
    }
    uploaded = uploadBlockMasks(batch, args.mask, numHeads);
    owned = uploaded;
  }
  const result = { dispose: () => owned?.destroy() };
  const { blockSize, numRows } = uploaded;
  if (start + rows > numRows) {
    owned?.destroy();
    throw new Error(`${op}: the mask covers ${numRows} rows, but the chunk reaches position ${start + rows - 1}`);
  }
  if (rows === 0) return result;

  const firstBlock = Math.floor(start / blockSize);
  const lastBlock = Math.floor((start + rows - 1) / blockSize);
  const tilesPerBlock = Math.ceil(blockSize / FLASH_BLOCK_M);
  const columns = (lastBlock - firstBlock + 1) * tilesPerBlock;
  const maxPerDimension = batch.runtime.device.limits.maxComputeWorkgroupsPerDimension;
  if (columns > maxPerDimension || numHeads > maxPerDimension) {
    owned?.destroy();
    throw new Error(`${op}: the grid [${columns}, ${numHeads}] exceeds this GPU's ${maxPerDimension} workgroups per dimension`);
  }

  const runtime = batch.runtime;
  const code = composeCacheReader(blockSparseKernel, cache.dtype, { flash: true });
  const pipeline = runtime.pipelines.get(`block_sparse_attention_${cache.dtype}`, code, 'main', flashConstants(headDim));
  const params = batch.uniform([
    ['u32', rows],
    ['u32', start],
    ['u32', numHeads],
    ['u32', numHeads / numKvHeads],
    ['u32', cache.capacity],
    ['f32', 1 / Math.sqrt(headDim)],
    ['u32', blockSize],
    ['u32', firstBlock],
    ['u32', tilesPerBlock],
    ['u32', uploaded.heads === 1 ? 0 : numBlocks(numRows, blockSize) + 1],
  ]);
  const bindings = [params, q.buffer, cache.k.buffer, cache.v.buffer, uploaded.offsets.buffer, uploaded.keyBlocks.buffer, out.buffer];
  batch.dispatch(pipeline, bindings, [columns, numHeads], timing);
  return result;
}

/** Copies one head's [N, D] slice out of an [N, heads, D] row-major tensor. */
export function headSlice(x: Float32Array, N: number, heads: number, D: number, head: number): Float32Array {
  const slice = new Float32Array(N * D);
  for (let t = 0; t < N; t++) slice.set(x.subarray((t * heads + head) * D, (t * heads + head + 1) * D), t * D);
  return slice;
}

/**
 * Reference of encodeBlockSparseAttention over a whole prompt of N rows (start 0), in f64 through
 * the shared metric code: per head, sparseAttentionFromSelection(selectionFromBlockMask(mask)).
 * q (N, H, D); k, v (N, Hkv, D); returns out (N, H, D) f32.
 */
export function blockSparseAttentionReference(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  N: number,
  shape: AttentionShape,
  masks: HeadBlockMasks,
): Float32Array {
  const op = 'blockSparseAttentionReference';
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const list = checkHeadBlockMasks(op, masks, H);
  if (list[0].numRows !== N) throw new Error(`${op}: the mask covers ${list[0].numRows} rows, expected N = ${N}`);
  const sizes: [string, Float32Array, number][] = [
    ['q', q, N * H * D],
    ['k', k, N * Hkv * D],
    ['v', v, N * Hkv * D],
  ];
  for (const [name, data, expected] of sizes) {
    if (data.length !== expected) throw new Error(`${op}: ${name} has ${data.length} elements, expected ${expected}`);
  }
  const selections = list.map((mask) => selectionFromBlockMask(mask));
  const out = new Float32Array(N * H * D);
  for (let h = 0; h < H; h++) {
    const kvh = Math.floor(h / (H / Hkv));
    const headOut = sparseAttentionFromSelection(
      headSlice(q, N, H, D, h),
      headSlice(k, N, Hkv, D, kvh),
      headSlice(v, N, Hkv, D, kvh),
      N,
      D,
      selections[selections.length === 1 ? 0 : h],
    );
    for (let t = 0; t < N; t++) out.set(headOut.subarray(t * D, (t + 1) * D), (t * H + h) * D);
  }
  return out;
}
