/**
 * Measures GPU time per labelled compute pass with timestamp queries. Where the
 * device lacks 'timestamp-query', `timestampWrites` returns undefined and callers
 * fall back to CPU timing around `queue.onSubmittedWorkDone()`.
 */
export class GpuProfiler {
  readonly enabled: boolean;
  private readonly querySet?: GPUQuerySet;
  private readonly resolveBuffer?: GPUBuffer;
  private readonly labels: string[] = [];

  constructor(
    readonly device: GPUDevice,
    readonly capacity = 1024,
  ) {
    this.enabled = device.features.has('timestamp-query');
    if (this.enabled) {
      this.querySet = device.createQuerySet({ label: 'profiler', type: 'timestamp', count: capacity * 2 });
      this.resolveBuffer = device.createBuffer({
        label: 'profiler resolve',
        size: capacity * 2 * 8,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
    }
  }

  /** Timestamp writes for one pass labelled `label`, or undefined when full or unsupported. */
  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (!this.querySet || this.labels.length >= this.capacity) return undefined;
    const index = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: index * 2, endOfPassWriteIndex: index * 2 + 1 };
  }

  /** Encodes the resolve of every query written since the last `read`. */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.querySet || !this.resolveBuffer || this.labels.length === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, this.labels.length * 2, this.resolveBuffer, 0);
  }

  /**
   * Reads the resolved timestamps and returns milliseconds summed per label, then
   * starts over. Call after the encoder holding `resolve` was submitted.
   */
  async read(): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    if (!this.resolveBuffer || this.labels.length === 0) return totals;
    const count = this.labels.length * 2;
    const staging = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, count * 8);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const ticks = new BigInt64Array(staging.getMappedRange());
    this.labels.forEach((label, index) => {
      const nanoseconds = Number(ticks[index * 2 + 1] - ticks[index * 2]);
      // Some drivers report end < begin across a clock reset; such a pair says nothing, so it is dropped.
      if (nanoseconds >= 0) totals.set(label, (totals.get(label) ?? 0) + nanoseconds / 1e6);
    });
    staging.unmap();
    staging.destroy();
    this.labels.length = 0;
    return totals;
  }
}
