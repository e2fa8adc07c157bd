/**
 * Kernel timings of one input on the machine's WebGPU adapter through Dawn. The kernels are the dense
 * flash kernel, AnchorAttention's three steps (with the dense kernel for the tail), and the
 * block-sparse kernel running FlexPrefill's and XAttention's masks and, as a control, the full causal
 * mask. All run on the same KV cache in one process, so their ratios are comparable. Absolute times on
 * a software adapter say nothing about GPU performance.
 */
import { create, globals } from 'webgpu';
import { encodeAnchorPrefill, anchorChunkPlan } from '../src/attention/anchor';
import { blockSparseAttentionReference, encodeBlockSparseAttention, uploadBlockMasks, type BlockMaskBuffers } from '../src/attention/blockSparse';
import { encodeDensePrefillAttention } from '../src/attention/dense';
import { encodeKvWrite } from '../src/attention/kvWrite';
import { blockMaskFromLists, numBlocks, outputFidelity, type BlockMask } from '../src/attention/metrics';
import { anchorAttentionReference, denseAttentionReference } from '../src/attention/reference';
import { groupSize, type AnchorParams, type LayerKvCache } from '../src/attention/types';
import { readF32, type Tensor } from '../src/gpu/buffers';
import { acquireGpu } from '../src/gpu/device';
import { ComputeBatch, createRuntime, type GpuRuntime } from '../src/gpu/dispatch';
import type { BenchInput } from './compare-inputs';

Object.assign(globalThis, globals);

export interface GpuSession {
  runtime: GpuRuntime;
  adapterName: string;
  /** 'timestamp-query' when the adapter has it, else 'wall clock' (submit to onSubmittedWorkDone). */
  clock: 'timestamp-query' | 'wall clock';
  /** Keeps Dawn's instance alive: it is freed when the object returned by create() is collected. */
  instance: GPU;
}

export async function openGpu(): Promise<GpuSession> {
  const instance = create([]);
  const gpu = await acquireGpu(instance, { onError: (error) => console.error(`GPU error: ${error.message}`) });
  const runtime = createRuntime(gpu, { profile: gpu.features.timestampQuery });
  return { runtime, adapterName: gpu.adapterName, clock: runtime.profiler?.enabled ? 'timestamp-query' : 'wall clock', instance };
}

export interface KernelTiming {
  /** Kernel and mask, for example "block-sparse (FlexPrefill mask)". */
  kernel: string;
  /** Knob of the mask's method, when there is one. */
  knob?: number;
  /** Median milliseconds over the repetitions, per part (selection, sparse compute) and in total. */
  totalMs: number;
  selectMs?: number;
  sparseMs?: number;
  /** Every repetition's total, in order. */
  samplesMs: number[];
  /** Density of the pairs the kernel computes (AnchorAttention: its own selection). */
  density: number;
  /** Relative L2 of the GPU output against the CPU reference of the same kernel and mask. */
  errorVsReference: number;
  /** Relative L2 of the GPU output against dense attention. */
  errorVsDense: number;
}

interface Workload {
  label: string;
  record: (batch: ComputeBatch) => void;
  out: Tensor;
  reference: Float32Array;
  density: number;
  knob?: number;
  /** Profiler labels that count as selection time. */
  selectLabels?: string[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs one recorded workload once; returns its total and selection milliseconds. */
async function runWorkload(session: GpuSession, workload: Workload): Promise<{ total: number; select: number }> {
  const { runtime } = session;
  const batch = new ComputeBatch(runtime, workload.label);
  workload.record(batch);
  const started = performance.now();
  await batch.submit();
  const wall = performance.now() - started;
  const passes = runtime.profiler?.enabled ? await runtime.profiler.read() : undefined;
  if (!passes || passes.size === 0) return { total: wall, select: NaN };
  let total = 0;
  let select = 0;
  for (const [label, ms] of passes) {
    total += ms;
    if (workload.selectLabels?.includes(label)) select += ms;
  }
  return { total, select };
}

export interface TimingRequest {
  input: BenchInput;
  anchorParams: AnchorParams;
  /** FlexPrefill and XAttention masks per head at their matched knobs. */
  masks: { method: 'flexprefill' | 'xattention'; knob: number; masks: BlockMask[]; density: number }[];
  repeats: number;
}

/** Times dense, AnchorAttention and the block-sparse kernel on one input; returns one row per kernel. */
export async function timeKernels(session: GpuSession, request: TimingRequest): Promise<KernelTiming[]> {
  const { runtime } = session;
  const { input, anchorParams, repeats } = request;
  const { N, shape } = input;
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
  const allocator = runtime.allocator;
  const owned: Tensor[] = [];
  const tensor = (label: string, dims: number[], data?: Float32Array) => {
    const created = data ? allocator.createTensorFrom(label, dims, 'f32', data) : allocator.createTensor(label, dims, 'f32');
    owned.push(created);
    return created;
  };

  // The KV cache contains the whole prompt before any attention runs, as after chunked prefill.
  const cache: LayerKvCache = {
    k: allocator.createTensor('bench cache.k', [Hkv, N, D], 'f32'),
    v: allocator.createTensor('bench cache.v', [Hkv, N, D], 'f32'),
    dtype: 'f32',
    capacity: N,
    numKvHeads: Hkv,
    headDim: D,
  };
  owned.push(cache.k, cache.v);
  {
    const batch = new ComputeBatch(runtime, 'bench kv write');
    encodeKvWrite(batch, { k: tensor('k', [N, Hkv, D], input.k), v: tensor('v', [N, Hkv, D], input.v), cache, start: 0, rows: N });
    await batch.submit();
  }
  const q = tensor('q', [N, H, D], input.q);
  const denseReference = denseAttentionReference(input.q, input.k, input.v, N, shape);
  const workloads: Workload[] = [];

  const denseOut = tensor('dense out', [N, H, D]);
  workloads.push({
    label: 'dense (flash kernel)',
    out: denseOut,
    reference: denseReference,
    density: 1,
    record: (batch) => encodeDensePrefillAttention(batch, { q, cache, start: 0, rows: N, shape, out: denseOut, timing: 'dense' }),
  });

  // AnchorAttention group by group as chunked prefill runs it: one q and out tensor per chunk.
  const G = groupSize(anchorParams);
  const anchorReference = anchorAttentionReference(input.q, input.k, input.v, N, shape, anchorParams);
  const anchorChunks: { start: number; rows: number; q: Tensor; out: Tensor; plan: 'anchor' | 'dense' }[] = [];
  for (let start = 0; start < N; start += G) {
    const rows = Math.min(G, N - start);
    anchorChunks.push({
      start,
      rows,
      q: tensor(`anchor q ${start}`, [rows, H, D], input.q.slice(start * H * D, (start + rows) * H * D)),
      out: tensor(`anchor out ${start}`, [rows, H, D]),
      plan: anchorChunkPlan(start, rows, N, anchorParams),
    });
  }
  const anchorDisposers: (() => void)[] = [];
  const anchorOut = tensor('anchor out', [N, H, D]);
  let anchorPairs = 0;
  anchorReference.selection.forEach((selection) => {
    for (let row = 0; row < N; row++) {
      const intervals = selection.rowIntervals(row);
      for (let i = 0; i < intervals.length; i += 2) anchorPairs += intervals[i + 1] - intervals[i];
    }
  });
  workloads.push({
    label: 'AnchorAttention (3 steps, dense tail)',
    out: anchorOut,
    reference: anchorReference.out,
    density: anchorPairs / (((N * (N + 1)) / 2) * H),
    knob: anchorParams.theta,
    selectLabels: ['anchor select'],
    record: (batch) => {
      anchorDisposers.splice(0).forEach((dispose) => dispose());
      for (const chunk of anchorChunks) {
        const args = { q: chunk.q, cache, start: chunk.start, rows: chunk.rows, shape, out: chunk.out };
        if (chunk.plan === 'anchor') {
          const result = encodeAnchorPrefill(batch, { ...args, params: anchorParams, timing: { select: 'anchor select', sparse: 'anchor sparse' } });
          anchorDisposers.push(result.dispose);
        } else {
          encodeDensePrefillAttention(batch, { ...args, timing: 'anchor sparse' });
        }
        batch.encoder.copyBufferToBuffer(chunk.out.buffer, 0, anchorOut.buffer, chunk.start * H * D * 4, chunk.rows * H * D * 4);
      }
    },
  });

  // Block-sparse kernel: the baselines' masks, and the full causal mask as a control.
  const uploads: BlockMaskBuffers[] = [];
  const blockSize = request.masks[0]?.masks[0]?.blockSize ?? 64;
  const fullLists = Array.from({ length: numBlocks(N, blockSize) }, (_, qb) => Array.from({ length: qb + 1 }, (_, kb) => kb));
  const maskRuns = [
    ...request.masks.map((entry) => ({ label: `block-sparse (${entry.method} mask)`, knob: entry.knob, masks: entry.masks as BlockMask | BlockMask[], density: entry.density })),
    { label: 'block-sparse (full causal mask)', knob: undefined, masks: blockMaskFromLists(N, blockSize, fullLists) as BlockMask | BlockMask[], density: 1 },
  ];
  for (const run of maskRuns) {
    const setup = new ComputeBatch(runtime, 'bench mask upload');
    const uploaded = uploadBlockMasks(setup, run.masks, H);
    await setup.submit();
    uploads.push(uploaded);
    const out = tensor(`${run.label} out`, [N, H, D]);
    workloads.push({
      label: run.label,
      out,
      reference: blockSparseAttentionReference(input.q, input.k, input.v, N, shape, run.masks),
      density: run.density,
      knob: run.knob,
      record: (batch) => encodeBlockSparseAttention(batch, { q, cache, start: 0, rows: N, shape, mask: uploaded, out, timing: 'block sparse' }),
    });
  }

  // Round 0 compiles the pipelines and warms up. The later rounds run every kernel once each, in
  // turn, so that load from other processes on a shared machine falls on all kernels alike.
  const totals = workloads.map((): number[] => []);
  const selects = workloads.map((): number[] => []);
  for (let round = 0; round <= repeats; round++) {
    for (let w = 0; w < workloads.length; w++) {
      const { total, select } = await runWorkload(session, workloads[w]);
      if (round === 0) continue;
      totals[w].push(total);
      selects[w].push(select);
    }
  }

  const timings: KernelTiming[] = [];
  for (let w = 0; w < workloads.length; w++) {
    const workload = workloads[w];
    const got = await readF32(runtime.device, workload.out);
    const totalMs = median(totals[w]);
    const selectMs = workload.selectLabels ? median(selects[w]) : NaN;
    const split = Number.isFinite(selectMs);
    timings.push({
      kernel: workload.label,
      knob: workload.knob,
      totalMs,
      selectMs: split ? selectMs : undefined,
      sparseMs: split ? totalMs - selectMs : undefined,
      samplesMs: totals[w],
      density: workload.density,
      errorVsReference: outputFidelity(got, workload.reference).relativeL2,
      errorVsDense: outputFidelity(got, denseReference).relativeL2,
    });
  }

  anchorDisposers.forEach((dispose) => dispose());
  uploads.forEach((upload) => upload.destroy());
  owned.forEach((created) => allocator.destroyTensor(created));
  return timings;
}
