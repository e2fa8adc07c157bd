/**
 * The transformer forward on the GPU for one chunk of rows at absolute positions
 * start .. start + rows - 1. It runs the embedding, then per layer a pre-norm attention block
 * (q/k/v projections, Qwen3's per-head q/k RMSNorm, RoPE, KV-cache write, prefill or decode
 * attention, o_proj, residual) and a pre-norm SwiGLU MLP block with its residual. The final norm
 * and lm_head run on the last row only. Activations live in a workspace sized for the largest chunk.
 */
import { elementCount, type Tensor } from '../gpu/buffers';
import type { ComputeBatch, GpuRuntime } from '../gpu/dispatch';
import { encodeDensePrefillAttention } from '../attention/dense';
import { encodeDecodeAttention } from '../attention/decode';
import { encodeKvWrite } from '../attention/kvWrite';
import { encodeAnchorPrefill, type AnchorGroupResult } from '../attention/anchor';
import { anchorChunkPlan } from '../attention/anchorPlan';
import type { AttentionMode, AttentionShape } from '../attention/types';
import { ropeOptions, type ModelConfig } from './config';
import type { KvCache } from './kvCache';
import type { ModelWeights } from './weights';
import { encodeEmbedding } from './ops/embedding';
import { encodeRmsNorm } from './ops/rmsnorm';
import { encodeLinear } from './ops/quant';
import { encodeAdd, encodeSiluMul } from './ops/elementwise';
import { encodeRope } from './ops/rope';
import { computeInvFreq } from './rope';

/** Activation buffers for chunks of up to `maxRows` rows, reused by every chunk and decode step. */
export class ForwardWorkspace {
  readonly tokens: Tensor;
  /** Residual stream, [maxRows, hidden] f32 twice: a layer reads one and writes the other, because a binding cannot be read and written at once. */
  readonly residual: [Tensor, Tensor];
  readonly normed: Tensor;
  readonly q: Tensor;
  readonly k: Tensor;
  readonly v: Tensor;
  readonly attention: Tensor;
  readonly projected: Tensor;
  readonly gate: Tensor;
  readonly up: Tensor;
  readonly activated: Tensor;
  readonly lastHidden: Tensor;
  readonly lastNormed: Tensor;
  readonly logits: Tensor;
  readonly invFreq: Tensor;
  private readonly owned: Tensor[] = [];

  constructor(
    private readonly runtime: GpuRuntime,
    readonly config: ModelConfig,
    readonly maxRows: number,
  ) {
    const { hiddenSize: hidden, numHeads, numKvHeads, headDim, intermediateSize, vocabSize } = config;
    const create = (label: string, shape: number[], dtype: 'f32' | 'u32' = 'f32') => {
      const tensor = runtime.allocator.createTensor(`forward ${label}`, shape, dtype);
      this.owned.push(tensor);
      return tensor;
    };
    try {
      this.tokens = create('tokens', [maxRows], 'u32');
      this.residual = [create('residual a', [maxRows, hidden]), create('residual b', [maxRows, hidden])];
      this.normed = create('normed', [maxRows, hidden]);
      this.q = create('q', [maxRows, numHeads, headDim]);
      this.k = create('k', [maxRows, numKvHeads, headDim]);
      this.v = create('v', [maxRows, numKvHeads, headDim]);
      this.attention = create('attention', [maxRows, numHeads, headDim]);
      this.projected = create('projected', [maxRows, hidden]);
      this.gate = create('gate', [maxRows, intermediateSize]);
      this.up = create('up', [maxRows, intermediateSize]);
      this.activated = create('activated', [maxRows, intermediateSize]);
      this.lastHidden = create('last hidden', [1, hidden]);
      this.lastNormed = create('last normed', [1, hidden]);
      this.logits = create('logits', [1, vocabSize]);
      const invFreq = computeInvFreq(ropeOptions(config));
      this.invFreq = runtime.allocator.createTensorFrom('forward inv_freq', [headDim / 2], 'f32', invFreq);
      this.owned.push(this.invFreq);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  dispose(): void {
    this.owned.forEach((tensor) => this.runtime.allocator.destroyTensor(tensor));
    this.owned.length = 0;
  }
}

/** Views the first `rows` rows of a workspace tensor as a tensor of that exact shape (same buffer). */
function rowsOf(tensor: Tensor, rows: number): Tensor {
  return { ...tensor, shape: [rows, ...tensor.shape.slice(1)] };
}

/** Views a tensor with another shape of the same element count. */
function reshape(tensor: Tensor, shape: number[]): Tensor {
  if (elementCount(shape) !== elementCount(tensor.shape)) {
    throw new Error(`forward: cannot view [${tensor.shape.join(', ')}] as [${shape.join(', ')}]`);
  }
  return { ...tensor, shape };
}

export interface ChunkArgs {
  weights: ModelWeights;
  cache: KvCache;
  workspace: ForwardWorkspace;
  /** Absolute position of the chunk's first row; the cache already contains keys 0 .. start - 1. */
  start: number;
  rows: number;
  /** Attention kind: prefill over the chunk, or decode for one row. */
  attention: { kind: 'prefill'; mode: AttentionMode; totalTokens: number } | { kind: 'decode' };
  /** Labels attention passes for the profiler. */
  profile?: boolean;
  /** Called per layer with its queries [rows, H, D] after RoPE, while prefill attention is being recorded (statistics copy them). */
  onQuery?: (batch: ComputeBatch, layer: number, q: Tensor, start: number, rows: number) => void;
  /**
   * Called per layer of a prefill chunk with its post-RoPE q [rows, H, D] and the chunk's own k and v
   * rows [rows, Hkv, D], after the KV-cache write and before attention, so a capture can copy them.
   */
  onQkv?: (batch: ComputeBatch, layer: number, qkv: { q: Tensor; k: Tensor; v: Tensor }, start: number, rows: number) => void;
}

/** One layer's AnchorAttention selection for a chunk that ran sparsely. */
export interface LayerAnchorResult {
  layer: number;
  result: AnchorGroupResult;
}

/**
 * Records the forward of one chunk whose token ids are already in workspace.tokens. Each
 * layer writes the chunk's keys and values into the cache before its attention reads them.
 * Leaves the last row's logits in workspace.logits. Returns the AnchorAttention selections of
 * a sparse chunk, one per layer; the caller disposes them once the batch has completed.
 */
export function encodeChunk(batch: ComputeBatch, args: ChunkArgs): LayerAnchorResult[] {
  const anchorResults: LayerAnchorResult[] = [];
  try {
    recordChunk(batch, args, anchorResults);
  } catch (error) {
    // The batch will not be submitted, so the selections recorded so far are freed here.
    anchorResults.forEach(({ result }) => result.dispose());
    throw error;
  }
  return anchorResults;
}

function recordChunk(batch: ComputeBatch, { weights, cache, workspace, start, rows, attention, profile, onQuery, onQkv }: ChunkArgs, anchorResults: LayerAnchorResult[]): void {
  const config = workspace.config;
  const { hiddenSize: hidden, numHeads, numKvHeads, headDim, rmsNormEps: eps } = config;
  if (rows < 1 || rows > workspace.maxRows) throw new Error(`forward: invalid chunk of ${rows} rows; the workspace fits 1 .. ${workspace.maxRows}`);
  if (attention.kind === 'decode' && rows !== 1) throw new Error(`forward: a decode step has 1 row, got ${rows}`);
  const shape: AttentionShape = { numHeads, numKvHeads, headDim };
  const ws = workspace;
  const [x, x2] = [rowsOf(ws.residual[0], rows), rowsOf(ws.residual[1], rows)];
  const normed = rowsOf(ws.normed, rows);
  const q = rowsOf(ws.q, rows);
  const k = rowsOf(ws.k, rows);
  const v = rowsOf(ws.v, rows);
  const qFlat = reshape(q, [rows, numHeads * headDim]);
  const kFlat = reshape(k, [rows, numKvHeads * headDim]);
  const vFlat = reshape(v, [rows, numKvHeads * headDim]);
  const attentionOut = rowsOf(ws.attention, rows);
  const projected = rowsOf(ws.projected, rows);
  const gate = rowsOf(ws.gate, rows);
  const up = rowsOf(ws.up, rows);
  const activated = rowsOf(ws.activated, rows);
  const plan = attention.kind === 'prefill' && attention.mode.kind === 'anchor' ? anchorChunkPlan(start, rows, attention.totalTokens, attention.mode.params) : 'dense';

  encodeEmbedding(batch, { tokens: rowsOf(ws.tokens, rows), table: weights.embedding, out: x });

  weights.layers.forEach((layer, index) => {
    const cacheLayer = cache.layers[index];
    const timing = profile ? `layer ${index} attention` : undefined;
    const anchorTiming = profile ? { select: `layer ${index} anchor selection`, sparse: `layer ${index} anchor sparse` } : undefined;

    // Attention block.
    encodeRmsNorm(batch, { x, weight: layer.inputNorm, eps, out: normed });
    encodeLinear(batch, { x: normed, weight: layer.qProj, bias: layer.qBias, out: qFlat });
    encodeLinear(batch, { x: normed, weight: layer.kProj, bias: layer.kBias, out: kFlat });
    encodeLinear(batch, { x: normed, weight: layer.vProj, bias: layer.vBias, out: vFlat });
    if (layer.qNorm && layer.kNorm) {
      // Qwen3 normalises each head's D values of q and k with a [D] weight before RoPE, in place.
      encodeRmsNorm(batch, { x: qFlat, weight: layer.qNorm, eps, out: qFlat });
      encodeRmsNorm(batch, { x: kFlat, weight: layer.kNorm, eps, out: kFlat });
    }
    encodeRope(batch, { x: q, heads: numHeads, headDim, invFreq: ws.invFreq, startPosition: start });
    encodeRope(batch, { x: k, heads: numKvHeads, headDim, invFreq: ws.invFreq, startPosition: start });
    encodeKvWrite(batch, { k, v, cache: cacheLayer, start, rows });
    if (attention.kind === 'prefill') onQuery?.(batch, index, q, start, rows);
    if (attention.kind === 'prefill') onQkv?.(batch, index, { q, k, v }, start, rows);
    if (attention.kind === 'decode') {
      encodeDecodeAttention(batch, { q, cache: cacheLayer, length: start + 1, shape, out: attentionOut });
    } else if (plan === 'anchor' && attention.mode.kind === 'anchor') {
      const result = encodeAnchorPrefill(batch, { q, cache: cacheLayer, start, rows, shape, params: attention.mode.params, out: attentionOut, timing: anchorTiming });
      anchorResults.push({ layer: index, result });
    } else {
      encodeDensePrefillAttention(batch, { q, cache: cacheLayer, start, rows, shape, out: attentionOut, timing });
    }
    encodeLinear(batch, { x: reshape(attentionOut, [rows, numHeads * headDim]), weight: layer.oProj, bias: layer.oBias, out: projected });
    encodeAdd(batch, { a: x, b: projected, out: x2 });

    // MLP block: down(silu(gate(h)) * up(h)).
    encodeRmsNorm(batch, { x: x2, weight: layer.postAttentionNorm, eps, out: normed });
    encodeLinear(batch, { x: normed, weight: layer.gateProj, out: gate });
    encodeLinear(batch, { x: normed, weight: layer.upProj, out: up });
    encodeSiluMul(batch, { gate, up, out: activated });
    encodeLinear(batch, { x: activated, weight: layer.downProj, out: projected });
    encodeAdd(batch, { a: x2, b: projected, out: x });
  });

  // Logits of the last row only: copy it out, then the final norm and lm_head on one row.
  const rowBytes = hidden * 4;
  batch.encoder.copyBufferToBuffer(ws.residual[0].buffer, (rows - 1) * rowBytes, ws.lastHidden.buffer, 0, rowBytes);
  encodeRmsNorm(batch, { x: ws.lastHidden, weight: weights.finalNorm, eps, out: ws.lastNormed });
  encodeLinear(batch, { x: ws.lastNormed, weight: weights.lmHead, out: ws.logits });
}
