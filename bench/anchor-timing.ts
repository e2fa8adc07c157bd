/**
 * Runs a whole prompt through prefill attention on the GPU as the model's chunked prefill does.
 * The prompt is cut into chunks of G rows, and each chunk's K/V is written to the KV cache before
 * its attention runs: AnchorAttention for whole groups and the dense kernel for the tail
 * (anchorChunkPlan), or the dense kernel for every chunk. Attention passes are timed with timestamp queries when the runtime has a profiler, else
 * with CPU wall time around queue.onSubmittedWorkDone for each phase of each chunk. The KV-cache
 * writes are the same in both modes and are not timed.
 */
import { readF32, readU32, type Tensor } from '../src/gpu/buffers';
import { ComputeBatch, packUniform, type GpuRuntime, type UniformField } from '../src/gpu/dispatch';
import { encodeAnchorPrefill } from '../src/attention/anchor';
import { encodeDensePrefillAttention } from '../src/attention/dense';
import { encodeKvWrite } from '../src/attention/kvWrite';
import { createCache, destroyCache } from '../src/attention/testKit';
import { groupSize, type AnchorParams, type LayerKvCache } from '../src/attention/types';
import { prefillChunks, type AttentionInputs } from './anchor-metrics';

/** Profiler labels, and the keys of PhaseTimes. */
const LABELS = { dense: 'dense', select: 'select', sparse: 'sparse', tail: 'tail' } as const;

/** Milliseconds of one prefill run per phase; phases a mode does not run are 0. */
export interface PhaseTimes {
  /** Dense kernel over every chunk (dense mode). */
  dense: number;
  /** AnchorAttention steps 1-2: anchor region and stripe selection. */
  select: number;
  /** AnchorAttention step 3: the sparse computation over the stripes. */
  sparse: number;
  /** Dense kernel over the rows after the last whole group (anchor mode). */
  tail: number;
}

export type PrefillMode = { kind: 'dense' } | { kind: 'anchor'; params: AnchorParams };

export interface PrefillRun {
  times: PhaseTimes;
  /** Attention output [N, H, D], when the run collected it. */
  out?: Float32Array;
  /** Per chunk, per query head: the GPU's stripe keys; null for a dense chunk (collecting anchor runs only). */
  stripes?: (Int32Array[] | null)[];
}

export type TimingSource = 'timestamp-query' | 'cpu-wall';

interface ChunkTensors {
  start: number;
  rows: number;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  out: Tensor;
}

/**
 * GPU copies of one prompt's Q/K/V, cut into chunks of G rows, with a KV cache of N tokens.
 * Create one per (input, G); `dispose` frees the buffers.
 */
export class PrefillBench {
  readonly G: number;
  private readonly cache: LayerKvCache;
  private readonly chunks: ChunkTensors[] = [];

  constructor(
    private readonly runtime: GpuRuntime,
    private readonly inputs: AttentionInputs,
    G: number,
    kvDtype: LayerKvCache['dtype'],
  ) {
    const { N, shape } = inputs;
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
    this.G = G;
    this.cache = createCache(runtime, shape, N, kvDtype);
    const allocator = runtime.allocator;
    for (let start = 0; start < N; start += G) {
      const rows = Math.min(G, N - start);
      const end = start + rows;
      this.chunks.push({
        start,
        rows,
        q: allocator.createTensorFrom(`bench q @${start}`, [rows, H, D], 'f32', inputs.q.subarray(start * H * D, end * H * D)),
        k: allocator.createTensorFrom(`bench k @${start}`, [rows, Hkv, D], 'f32', inputs.k.subarray(start * Hkv * D, end * Hkv * D)),
        v: allocator.createTensorFrom(`bench v @${start}`, [rows, Hkv, D], 'f32', inputs.v.subarray(start * Hkv * D, end * Hkv * D)),
        out: allocator.createTensor(`bench out @${start}`, [rows, H, D], 'f32'),
      });
    }
  }

  get timingSource(): TimingSource {
    return this.runtime.profiler?.enabled ? 'timestamp-query' : 'cpu-wall';
  }

  /**
   * Runs the prompt once in `mode`. With `collect`, also reads back the output and, in anchor
   * mode, each group's stripes; the read-backs happen between chunks and are not timed.
   */
  async run(mode: PrefillMode, collect: boolean): Promise<PrefillRun> {
    const { N, shape } = this.inputs;
    const { numHeads: H, headDim: D } = shape;
    if (mode.kind === 'anchor' && groupSize(mode.params) !== this.G) {
      throw new Error(`PrefillBench.run: anchor params have G = ${groupSize(mode.params)}, but the chunks were cut for G = ${this.G}`);
    }
    const plans = mode.kind === 'anchor' ? prefillChunks(N, mode.params) : this.chunks.map(() => ({ plan: 'dense' as const }));
    const wall: PhaseTimes = { dense: 0, select: 0, sparse: 0, tail: 0 };
    const out = collect ? new Float32Array(N * H * D) : undefined;
    const stripes: (Int32Array[] | null)[] = [];
    const profiled = this.timingSource === 'timestamp-query';
    await this.runtime.profiler?.read();

    for (let index = 0; index < this.chunks.length; index++) {
      const chunk = this.chunks[index];
      const { start, rows } = chunk;
      const plan = plans[index].plan;
      const batch = profiled ? new ComputeBatch(this.runtime, `prefill @${start}`) : new PhaseSplitBatch(this.runtime, `prefill @${start}`, LABELS.sparse);
      if (!profiled) {
        // CPU timing: the cache write goes first in a batch of its own, so that it stays untimed.
        const write = new ComputeBatch(this.runtime, `kv write @${start}`);
        encodeKvWrite(write, { k: chunk.k, v: chunk.v, cache: this.cache, start, rows });
        await write.submit();
      } else {
        encodeKvWrite(batch, { k: chunk.k, v: chunk.v, cache: this.cache, start, rows });
      }

      if (plan === 'anchor' && mode.kind === 'anchor') {
        const result = encodeAnchorPrefill(batch, {
          q: chunk.q,
          cache: this.cache,
          start,
          rows,
          shape,
          params: mode.params,
          out: chunk.out,
          timing: { select: LABELS.select, sparse: LABELS.sparse },
        });
        try {
          if (batch instanceof PhaseSplitBatch) {
            wall.select += await timeSubmit(batch);
            wall.sparse += await timeSubmit(batch.sparsePhase);
            batch.destroyUniforms();
          } else {
            await batch.submit();
          }
          if (collect) {
            const C = result.maxCandidates;
            const counts = await readU32(this.runtime.device, result.counts);
            const indices = C > 0 ? await readU32(this.runtime.device, result.indices, H * C) : new Uint32Array(0);
            stripes.push(Array.from({ length: H }, (_, h) => Int32Array.from(indices.subarray(h * C, h * C + counts[h]))));
          }
        } finally {
          result.dispose();
        }
      } else {
        const label = mode.kind === 'anchor' ? LABELS.tail : LABELS.dense;
        encodeDensePrefillAttention(batch, { q: chunk.q, cache: this.cache, start, rows, shape, out: chunk.out, timing: label });
        if (batch instanceof PhaseSplitBatch) {
          wall[label] += await timeSubmit(batch);
          batch.destroyUniforms();
        } else {
          await batch.submit();
        }
        if (collect) stripes.push(null);
      }
      if (out) out.set(await readF32(this.runtime.device, chunk.out), start * H * D);
    }

    let times = wall;
    if (profiled && this.runtime.profiler) {
      const totals = await this.runtime.profiler.read();
      times = {
        dense: totals.get(LABELS.dense) ?? 0,
        select: totals.get(LABELS.select) ?? 0,
        sparse: totals.get(LABELS.sparse) ?? 0,
        tail: totals.get(LABELS.tail) ?? 0,
      };
    }
    return { times, out, stripes: collect && mode.kind === 'anchor' ? stripes : undefined };
  }

  dispose(): void {
    for (const chunk of this.chunks.splice(0)) {
      for (const tensor of [chunk.q, chunk.k, chunk.v, chunk.out]) this.runtime.allocator.destroyTensor(tensor);
    }
    destroyCache(this.runtime, this.cache);
  }
}

/** Milliseconds from submitting `batch` until the queue reports its work done. */
async function timeSubmit(batch: ComputeBatch): Promise<number> {
  const began = performance.now();
  await batch.submit();
  return performance.now() - began;
}

/**
 * A batch for CPU timing that records the dispatches labelled `sparseLabel` into a second batch,
 * `sparsePhase`, so that AnchorAttention's selection and sparse steps can be submitted and timed
 * apart. Its uniform buffers outlive both submissions, because the second phase reads uniforms
 * created while the first was recorded; call destroyUniforms after both have completed.
 */
class PhaseSplitBatch extends ComputeBatch {
  readonly sparsePhase: ComputeBatch;
  private readonly uniforms: GPUBuffer[] = [];

  constructor(
    runtime: GpuRuntime,
    label: string,
    private readonly sparseLabel: string,
  ) {
    super(runtime, label);
    this.sparsePhase = new ComputeBatch(runtime, `${label} sparse`);
  }

  override uniform(fields: UniformField[]): GPUBuffer {
    const data = packUniform(fields);
    const buffer = this.runtime.device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
    buffer.unmap();
    this.uniforms.push(buffer);
    return buffer;
  }

  override dispatch(
    pipeline: GPUComputePipeline,
    bindings: (GPUBuffer | GPUBufferBinding)[],
    workgroups: [number, number?, number?],
    timing?: string,
  ): void {
    if (timing === this.sparseLabel) this.sparsePhase.dispatch(pipeline, bindings, workgroups, timing);
    else super.dispatch(pipeline, bindings, workgroups, timing);
  }

  destroyUniforms(): void {
    this.uniforms.splice(0).forEach((buffer) => buffer.destroy());
  }
}
