/**
 * Collects per-layer, per-head statistics of an AnchorAttention prefill through the model's prefill
 * hooks. Always: each sparse chunk's stripe counts and lists, read back after the chunk has run, from
 * which density and the stripe-only share follow exactly (src/attention/anchorStats.ts). Detailed mode
 * adds work per sparse chunk and layer. Each head's AnchorAttention and dense attention run alone, timed,
 * on a snapshot of the chunk's Q and the same KV cache. The GPU then compares the two outputs (relative
 * L2 error) and measures the attention-mass recall of the sampled rows.
 */
import { readF32, readU32, type Tensor } from '../gpu/buffers';
import { ComputeBatch, type GpuRuntime } from '../gpu/dispatch';
import { GpuProfiler } from '../gpu/profiler';
import { encodeAnchorPrefill, type AnchorGroupResult } from '../attention/anchor';
import { anchorChunkPlan, anchorRegion } from '../attention/anchorPlan';
import {
  anchorOnlyDensity,
  encodeStripes,
  headPairs,
  relativeL2FromSums,
  stripeCount,
  summarizeRecall,
  type EncodedStripes,
  type ErrorSums,
} from '../attention/anchorStats';
import { encodeDensePrefillAttention } from '../attention/dense';
import { sampleRows } from '../attention/metrics';
import { encodeOutputError } from '../attention/outputError';
import { encodeAnchorRecall } from '../attention/recall';
import { groupSize, type AnchorParams, type AttentionShape } from '../attention/types';
import type { LayerAnchorResult } from '../model/forward';
import type { KvCache } from '../model/kvCache';
import type { AnchorPrefillStats, ChunkInfo, HeadStats, TimingSource } from './prefillStatsTypes';

/** Rows at the end of the prompt whose recall is measured; they see the most keys. */
export const RECALL_LAST_ROWS = 16;
/** Rows drawn at random from the rest of the prompt. */
export const RECALL_RANDOM_ROWS = 48;

export interface AnchorStatsSetup {
  runtime: GpuRuntime;
  cache: KvCache;
  shape: AttentionShape;
  numLayers: number;
  params: AnchorParams;
  prompt: readonly number[];
  detailed: boolean;
  /** Seed of the random sample of recall rows. */
  seed?: number;
  /** 'cpu' forces CPU timing; by default timestamp queries are used where the device has them. */
  timing?: TimingSource;
}

/** The inputs every per-head run shares: the chunk's Q snapshot, the layer's KV cache and the geometry. */
type HeadRunInputs = { q: Tensor; cache: KvCache['layers'][number]; start: number; rows: number; shape: AttentionShape };

interface HeadTimes {
  /** Steps 1–2 and step 3; 0 under CPU timing, which cannot split one submission. */
  selectMs: number;
  sparseMs: number;
  anchorMs: number;
  denseMs: number;
}

interface HeadAccumulator {
  anchorMs: number;
  denseMs: number;
  selectMs: number;
  sparseMs: number;
  error: ErrorSums;
  recall: number[];
}

export class AnchorStatsCollector {
  private readonly G: number;
  private readonly N: number;
  private readonly sampled: Int32Array;
  /** [layer][head] stripe lists of each sparse chunk, keyed by the chunk start. */
  private readonly stripes: Map<number, EncodedStripes>[][];
  private readonly heads: HeadAccumulator[][];
  private readonly snapshots: Tensor[] = [];
  private readonly scratch: Tensor[] = [];
  private readonly profiler?: GpuProfiler;
  private readonly timingRuntime: GpuRuntime;
  private warmedUp = false;
  /** Wall time spent inside onAnchorChunk (read-back and detailed runs), which model.prefill's time includes. */
  overheadMs = 0;

  constructor(private readonly setup: AnchorStatsSetup) {
    const { runtime, shape, numLayers, params, prompt, detailed } = setup;
    this.G = groupSize(params);
    this.N = prompt.length;
    this.sampled = sampleRows(this.N, { last: RECALL_LAST_ROWS, random: RECALL_RANDOM_ROWS, seed: setup.seed ?? 1 });
    this.stripes = Array.from({ length: numLayers }, () => Array.from({ length: shape.numHeads }, () => new Map()));
    this.heads = Array.from({ length: numLayers }, () =>
      Array.from({ length: shape.numHeads }, () => ({ anchorMs: 0, denseMs: 0, selectMs: 0, sparseMs: 0, error: { diffSquared: 0, refSquared: 0 }, recall: [] })),
    );
    // The app's runtime has no profiler, so detailed timing brings its own where the device has timestamps.
    if (detailed && setup.timing !== 'cpu' && runtime.device.features.has('timestamp-query')) this.profiler = new GpuProfiler(runtime.device);
    this.timingRuntime = { ...runtime, profiler: this.profiler };
  }

  /** Timing source of the per-head times in detailed mode. */
  get timing(): TimingSource {
    return this.profiler ? 'timestamp-query' : 'cpu';
  }

  /** Hook for the chunk's batch: in detailed mode, keeps each layer's Q of a sparse chunk for the per-head runs. */
  readonly onQuery = (batch: ComputeBatch, layer: number, q: Tensor, start: number, rows: number): void => {
    if (!this.setup.detailed || anchorChunkPlan(start, rows, this.N, this.setup.params) !== 'anchor') return;
    const { numHeads: H, headDim: D } = this.setup.shape;
    // NOTE: one [G, H, D] f32 snapshot per layer (176 MB for 24 layers, 14 heads, D 64 at G 2048), the price of detailed mode.
    this.snapshots[layer] ??= this.setup.runtime.allocator.createTensor(`stats q layer ${layer}`, [this.G, H, D], 'f32');
    batch.encoder.copyBufferToBuffer(q.buffer, 0, this.snapshots[layer].buffer, 0, this.G * H * D * 4);
  };

  /** Hook after a sparse chunk has run: reads the stripe lists and, in detailed mode, measures each layer. */
  readonly onAnchorChunk = async (start: number, results: LayerAnchorResult[]): Promise<void> => {
    const began = performance.now();
    try {
      await this.collectChunk(start, results);
    } finally {
      this.overheadMs += performance.now() - began;
    }
  };

  private async collectChunk(start: number, results: LayerAnchorResult[]): Promise<void> {
    const { runtime } = this.setup;
    const H = this.setup.shape.numHeads;
    for (const { layer, result } of results) {
      const C = result.maxCandidates;
      const counts = await readU32(runtime.device, result.counts);
      const indices = C > 0 ? await readU32(runtime.device, result.indices, H * C) : new Uint32Array(0);
      for (let h = 0; h < H; h++) {
        const keys = indices.subarray(h * C, h * C + counts[h]);
        this.stripes[layer][h].set(start, encodeStripes(keys, result.region.candidateStart, result.region.candidateEnd));
      }
      if (this.setup.detailed) await this.measureLayer(start, layer, result);
    }
  }

  private tensor(label: string, dims: number[], dtype: 'f32' | 'u32'): Tensor {
    const tensor = this.setup.runtime.allocator.createTensor(`stats ${label}`, dims, dtype);
    this.scratch.push(tensor);
    return tensor;
  }

  private async measureLayer(start: number, layer: number, main: AnchorGroupResult): Promise<void> {
    const { cache, shape } = this.setup;
    const { numHeads: H, headDim: D } = shape;
    const G = this.G;
    const q = this.snapshots[layer];
    const cacheLayer = cache.layers[layer];
    const sparseOut = this.tensor('sparse out', [G, H, D], 'f32');
    const denseOut = this.tensor('dense out', [G, H, D], 'f32');
    const common = { q, cache: cacheLayer, start, rows: G, shape };
    try {
      if (!this.warmedUp) {
        // The first run compiles the pipelines, so its times are dropped.
        await this.timeHead(layer, 0, common, sparseOut, denseOut);
        this.warmedUp = true;
      }
      for (let h = 0; h < H; h++) {
        const times = await this.timeHead(layer, h, common, sparseOut, denseOut);
        const accumulator = this.heads[layer][h];
        accumulator.selectMs += times.selectMs;
        accumulator.sparseMs += times.sparseMs;
        accumulator.anchorMs += times.anchorMs;
        accumulator.denseMs += times.denseMs;
      }
      await this.compareOutputs(start, layer, main, q, sparseOut, denseOut);
    } finally {
      this.releaseScratch();
    }
  }

  /** Runs head h alone with AnchorAttention into sparseOut and dense attention into denseOut, and times both. */
  private async timeHead(layer: number, h: number, common: HeadRunInputs, sparseOut: Tensor, denseOut: Tensor): Promise<HeadTimes> {
    const { params } = this.setup;
    const runtime = this.timingRuntime;
    if (this.profiler) {
      const batch = new ComputeBatch(runtime, `stats layer ${layer} head ${h}`);
      const result = encodeAnchorPrefill(batch, { ...common, params, out: sparseOut, headStart: h, headCount: 1, timing: { select: 'select', sparse: 'sparse' } });
      encodeDensePrefillAttention(batch, { ...common, out: denseOut, headStart: h, headCount: 1, timing: 'dense' });
      await batch.submit();
      result.dispose();
      const times = await this.profiler.read();
      const selectMs = times.get('select') ?? 0;
      const sparseMs = times.get('sparse') ?? 0;
      return { selectMs, sparseMs, anchorMs: selectMs + sparseMs, denseMs: times.get('dense') ?? 0 };
    }
    // CPU timing: the queue is idle before each submission, so each span covers one op's GPU work.
    await runtime.device.queue.onSubmittedWorkDone();
    const anchorBatch = new ComputeBatch(runtime, `stats layer ${layer} head ${h} anchor`);
    const result = encodeAnchorPrefill(anchorBatch, { ...common, params, out: sparseOut, headStart: h, headCount: 1 });
    let began = performance.now();
    await anchorBatch.submit();
    const anchorMs = performance.now() - began;
    result.dispose();
    const denseBatch = new ComputeBatch(runtime, `stats layer ${layer} head ${h} dense`);
    encodeDensePrefillAttention(denseBatch, { ...common, out: denseOut, headStart: h, headCount: 1 });
    began = performance.now();
    await denseBatch.submit();
    return { selectMs: 0, sparseMs: 0, anchorMs, denseMs: performance.now() - began };
  }

  private async compareOutputs(start: number, layer: number, main: AnchorGroupResult, q: Tensor, sparseOut: Tensor, denseOut: Tensor): Promise<void> {
    const { runtime, cache, shape } = this.setup;
    const { numHeads: H, headDim: D } = shape;
    const G = this.G;
    const rows = Array.from(this.sampled).filter((row) => row >= start && row < start + G);
    const sums = this.tensor('error sums', [H, 2], 'f32');

    const batch = new ComputeBatch(runtime, `stats layer ${layer} compare`);
    encodeOutputError(batch, { got: sparseOut, ref: denseOut, rows: G, sums });
    let recall: Tensor | undefined;
    if (rows.length > 0) {
      const rowBytes = H * D * 4;
      const qRows = this.tensor('q rows', [rows.length, H, D], 'f32');
      rows.forEach((row, i) => batch.encoder.copyBufferToBuffer(q.buffer, (row - start) * rowBytes, qRows.buffer, i * rowBytes, rowBytes));
      const positions = this.tensor('positions', [rows.length], 'u32');
      runtime.device.queue.writeBuffer(positions.buffer, 0, Uint32Array.from(rows));
      recall = this.tensor('recall', [rows.length, H], 'f32');
      encodeAnchorRecall(batch, {
        qRows,
        positions,
        cache: cache.layers[layer],
        shape,
        region: main.region,
        indices: main.indices,
        counts: main.counts,
        maxCandidates: main.maxCandidates,
        recall,
      });
    }
    await batch.submit();

    const errorSums = await readF32(runtime.device, sums);
    const recallValues = recall ? await readF32(runtime.device, recall) : new Float32Array(0);
    for (let h = 0; h < H; h++) {
      const accumulator = this.heads[layer][h];
      accumulator.error.diffSquared += errorSums[h * 2];
      accumulator.error.refSquared += errorSums[h * 2 + 1];
      for (let i = 0; i < rows.length; i++) accumulator.recall.push(recallValues[i * H + h]);
    }
  }

  private releaseScratch(): void {
    this.scratch.splice(0).forEach((tensor) => this.setup.runtime.allocator.destroyTensor(tensor));
  }

  /** Builds the statistics once the prefill is over; `reusedTokens` is the cached prefix it skipped. */
  finish(reusedTokens: number): AnchorPrefillStats {
    const { shape, numLayers, detailed } = this.setup;
    const H = shape.numHeads;
    const chunks = this.chunkPlans(reusedTokens);
    const anchorOnly = anchorOnlyDensity(chunks);
    // Sampled rows in dense chunks compute every key, so their recall is exactly 1.
    const denseSampled = Array.from(this.sampled).filter((row) => row >= reusedTokens && chunks.some((chunk) => !chunk.region && row >= chunk.start && row < chunk.start + chunk.rows));
    const sampledRows = Array.from(this.sampled).filter((row) => row >= reusedTokens);
    const layers = Array.from({ length: numLayers }, (_, layer) => ({
      layer,
      heads: Array.from({ length: H }, (_, h): HeadStats => {
        const lists = chunks.map((chunk) => (chunk.region ? this.stripes[layer][h].get(chunk.start) : undefined));
        const counts = lists.map((list) => (list ? stripeCount(list) : 0));
        const pairs = headPairs(chunks, counts);
        const density = pairs.causalPairs > 0 ? pairs.computedPairs / pairs.causalPairs : 1;
        const stats: HeadStats = {
          stripes: counts.reduce((sum, count) => sum + count, 0),
          density,
          stripeShare: pairs.causalPairs > 0 ? pairs.stripePairs / pairs.causalPairs : 0,
          workBound: density > 0 ? 1 / density : Infinity,
        };
        if (detailed) {
          const accumulator = this.heads[layer][h];
          const recall = [...accumulator.recall, ...denseSampled.map(() => 1)];
          if (recall.length > 0) {
            const summary = summarizeRecall(recall);
            stats.recallMean = summary.mean;
            stats.recallP5 = summary.p5;
          }
          const anyAnchor = chunks.some((chunk) => chunk.region);
          if (anyAnchor) {
            stats.relativeL2 = relativeL2FromSums(accumulator.error);
            stats.anchorMs = accumulator.anchorMs;
            stats.denseMs = accumulator.denseMs;
            if (this.profiler) {
              stats.selectMs = accumulator.selectMs;
              stats.sparseMs = accumulator.sparseMs;
            }
            if (accumulator.anchorMs > 0) stats.speedup = accumulator.denseMs / accumulator.anchorMs;
          }
        }
        return stats;
      }),
    }));
    const emptyRuns: EncodedStripes = { kind: 'runs', runs: new Uint32Array(0) };
    return {
      numLayers,
      numHeads: H,
      groupSize: this.G,
      detailed,
      timing: detailed ? this.timing : undefined,
      chunks,
      anchorOnlyDensity: anchorOnly,
      layers,
      stripes: this.stripes.map((layer) => layer.map((lists) => chunks.map((chunk) => (chunk.region ? (lists.get(chunk.start) ?? emptyRuns) : emptyRuns)))),
      sampledRows,
    };
  }

  /** Lists the chunks model.prefill runs after a reused prefix: they end at multiples of G, each planned by anchorChunkPlan. */
  private chunkPlans(reusedTokens: number): ChunkInfo[] {
    const { params } = this.setup;
    const chunks: ChunkInfo[] = [];
    let position = reusedTokens;
    while (position < this.N) {
      const end = Math.min(this.N, (Math.floor(position / this.G) + 1) * this.G);
      const rows = end - position;
      const plan = anchorChunkPlan(position, rows, this.N, params);
      chunks.push({ start: position, rows, region: plan === 'anchor' ? anchorRegion(position / this.G, params) : null });
      position = end;
    }
    return chunks;
  }

  /** Frees the Q snapshots and any scratch tensors. */
  dispose(): void {
    this.releaseScratch();
    this.snapshots.splice(0).forEach((tensor) => tensor && this.setup.runtime.allocator.destroyTensor(tensor));
  }
}
