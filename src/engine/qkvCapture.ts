/**
 * Q/K/V capture from the model's own forward. A dense prefill copies the post-RoPE q [T, H, D] and
 * the chunk's k, v rows [T, Hkv, D] of the chosen layers into mappable buffers while each chunk is
 * recorded. They are read back once the chunk has completed and written as a capture file.
 */
import type { Tensor } from '../gpu/buffers';
import type { ComputeBatch, GpuRuntime } from '../gpu/dispatch';
import { writeCapture, type CaptureLayer } from '../attention/capture';
import type { TransformerModel } from '../model/model';

export interface QkvCaptureOptions {
  /** Layer indices to capture, each in [0, numLayers); duplicates are kept once, in ascending order. */
  layers: number[];
  /** Rows per dense prefill chunk. */
  chunkSize: number;
  signal?: AbortSignal;
  /** Called after each chunk with the tokens captured so far. */
  onProgress?: (done: number, total: number) => void;
}

/** Checks a layer list against the model and returns it sorted without duplicates. */
export function normalizeCaptureLayers(layers: readonly number[], numLayers: number): number[] {
  if (layers.length === 0) throw new Error('captureQkv: choose at least one layer');
  for (const layer of layers) {
    if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers) {
      throw new Error(`captureQkv: layer ${layer} is outside the model's layers 0 .. ${numLayers - 1}`);
    }
  }
  return [...new Set(layers)].sort((a, b) => a - b);
}

/**
 * Copies each selected layer's chunk rows into one MAP_READ staging buffer per layer (q, then k,
 * then v) and, after the chunk's batch has completed, into CPU arrays at the chunk's rows.
 */
export class QkvCaptureCollector {
  private readonly arrays = new Map<number, CaptureLayer>();
  private readonly staging = new Map<number, GPUBuffer>();
  private readonly rowElements: { q: number; kv: number };

  constructor(
    private readonly runtime: GpuRuntime,
    shape: { numHeads: number; numKvHeads: number; headDim: number },
    layers: readonly number[],
    private readonly numTokens: number,
    private readonly maxChunkRows: number,
  ) {
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = shape;
    this.rowElements = { q: H * D, kv: Hkv * D };
    for (const layer of layers) {
      this.arrays.set(layer, {
        layer,
        q: new Float32Array(numTokens * H * D),
        k: new Float32Array(numTokens * Hkv * D),
        v: new Float32Array(numTokens * Hkv * D),
      });
    }
  }

  private stagingFor(layer: number): GPUBuffer {
    let buffer = this.staging.get(layer);
    if (!buffer) {
      const bytes = this.maxChunkRows * (this.rowElements.q + 2 * this.rowElements.kv) * 4;
      buffer = this.runtime.allocator.createBuffer(`capture staging layer ${layer}`, bytes, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
      this.staging.set(layer, buffer);
    }
    return buffer;
  }

  /** Prefill hook: records the copies of a selected layer's q, k and v rows. */
  readonly onQkv = (batch: ComputeBatch, layer: number, qkv: { q: Tensor; k: Tensor; v: Tensor }, start: number, rows: number): void => {
    if (!this.arrays.has(layer)) return;
    if (rows > this.maxChunkRows) throw new Error(`captureQkv: chunk of ${rows} rows exceeds the staging size of ${this.maxChunkRows} rows`);
    if (start + rows > this.numTokens) throw new Error(`captureQkv: rows ${start} .. ${start + rows - 1} run past the ${this.numTokens} captured tokens`);
    const staging = this.stagingFor(layer);
    const qBytes = rows * this.rowElements.q * 4;
    const kvBytes = rows * this.rowElements.kv * 4;
    batch.encoder.copyBufferToBuffer(qkv.q.buffer, 0, staging, 0, qBytes);
    batch.encoder.copyBufferToBuffer(qkv.k.buffer, 0, staging, qBytes, kvBytes);
    batch.encoder.copyBufferToBuffer(qkv.v.buffer, 0, staging, qBytes + kvBytes, kvBytes);
  };

  /** Prefill hook after a chunk's batch has completed: maps each staging buffer and stores its rows. */
  readonly onChunkComplete = async (start: number, rows: number): Promise<void> => {
    const qElements = rows * this.rowElements.q;
    const kvElements = rows * this.rowElements.kv;
    for (const [layer, entry] of this.arrays) {
      const staging = this.stagingFor(layer);
      await staging.mapAsync(GPUMapMode.READ, 0, (qElements + 2 * kvElements) * 4);
      try {
        const data = new Float32Array(staging.getMappedRange(0, (qElements + 2 * kvElements) * 4));
        entry.q.set(data.subarray(0, qElements), start * this.rowElements.q);
        entry.k.set(data.subarray(qElements, qElements + kvElements), start * this.rowElements.kv);
        entry.v.set(data.subarray(qElements + kvElements), start * this.rowElements.kv);
      } finally {
        staging.unmap();
      }
    }
  };

  /** Returns the captured layers in ascending layer order. */
  layers(): CaptureLayer[] {
    return [...this.arrays.values()];
  }

  dispose(): void {
    this.staging.forEach((buffer) => this.runtime.allocator.destroyBuffer(buffer));
    this.staging.clear();
  }
}

/**
 * Prefills `tokens` densely from position 0 (the KV cache is emptied first, so no prefix is reused)
 * and returns the post-RoPE q and the k, v of the chosen layers. The cache then contains `tokens`.
 */
export async function captureQkvLayers(model: TransformerModel, tokens: readonly number[], options: QkvCaptureOptions): Promise<CaptureLayer[]> {
  const { numLayers, numHeads, numKvHeads, headDim } = model.config;
  const layers = normalizeCaptureLayers(options.layers, numLayers);
  if (tokens.length === 0) throw new Error('captureQkv: the text has no tokens');
  if (!Number.isInteger(options.chunkSize) || options.chunkSize < 1) throw new Error(`captureQkv: chunkSize must be a positive integer, got ${options.chunkSize}`);
  const maxChunkRows = Math.min(options.chunkSize, tokens.length);
  const collector = new QkvCaptureCollector(model.runtime, { numHeads, numKvHeads, headDim }, layers, tokens.length, maxChunkRows);
  try {
    model.resetCache();
    await model.prefill(tokens, {
      chunkSize: options.chunkSize,
      attention: { kind: 'dense' },
      signal: options.signal,
      onChunk: options.onProgress,
      onQkv: collector.onQkv,
      onChunkComplete: collector.onChunkComplete,
    });
    return collector.layers();
  } finally {
    collector.dispose();
  }
}

export interface QkvCaptureFileOptions extends QkvCaptureOptions {
  /** Model name stored in the header. */
  modelName: string;
  dtype?: 'f32' | 'f16';
  note?: string;
}

/** Runs captureQkvLayers and serialises the result as a capture file with RoPE applied. */
export async function captureQkvFile(model: TransformerModel, tokens: readonly number[], options: QkvCaptureFileOptions): Promise<Uint8Array> {
  const layers = await captureQkvLayers(model, tokens, options);
  const { numHeads, numKvHeads, headDim } = model.config;
  return writeCapture({ model: options.modelName, numHeads, numKvHeads, headDim, dtype: options.dtype, ropeApplied: true, note: options.note, layers });
}
