import type { GpuContext } from './device';
import { PipelineCache } from './pipelines';
import { BufferAllocator } from './buffers';
import { GpuProfiler } from './profiler';

/** The context of every GPU op: the device, its compiled pipelines, an allocator and an optional profiler. */
export interface GpuRuntime {
  gpu: GpuContext;
  device: GPUDevice;
  pipelines: PipelineCache;
  allocator: BufferAllocator;
  profiler?: GpuProfiler;
}

export function createRuntime(gpu: GpuContext, options: { profile?: boolean } = {}): GpuRuntime {
  return {
    gpu,
    device: gpu.device,
    pipelines: new PipelineCache(gpu.device),
    allocator: new BufferAllocator(gpu.device),
    profiler: options.profile ? new GpuProfiler(gpu.device) : undefined,
  };
}

/** One field of a uniform parameter block; WGSL lays out u32, i32 and f32 scalars 4 bytes apart. */
export type UniformField = ['u32' | 'i32' | 'f32', number];

/** Packs scalar fields into the bytes of a WGSL uniform struct, padded to 16 bytes. */
export function packUniform(fields: UniformField[]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  fields.forEach(([type, value], index) => {
    if (type === 'f32') view.setFloat32(index * 4, value, true);
    else if (type === 'i32') view.setInt32(index * 4, value, true);
    else view.setUint32(index * 4, value, true);
  });
  return bytes;
}

/**
 * Splits `workgroups` into an (x, y) grid within maxComputeWorkgroupsPerDimension.
 * Kernels recover the linear workgroup index as `wid.x + wid.y * nwg.x` and return
 * early past the logical size, because x * y may exceed `workgroups`.
 */
export function workgroupGrid(workgroups: number, maxPerDimension: number): [number, number] {
  if (workgroups <= maxPerDimension) return [Math.max(1, workgroups), 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  return [Math.ceil(workgroups / y), y];
}

/**
 * Records compute dispatches into one command encoder, each in its own pass so the
 * profiler can time it, and frees the per-dispatch uniform buffers after submission.
 */
export class ComputeBatch {
  readonly encoder: GPUCommandEncoder;
  private readonly transient: GPUBuffer[] = [];
  private readonly completions: (() => void)[] = [];

  constructor(
    readonly runtime: GpuRuntime,
    label: string,
  ) {
    this.encoder = runtime.device.createCommandEncoder({ label });
  }

  /** Creates a uniform buffer holding `fields`; it lives until this batch is submitted. */
  uniform(fields: UniformField[]): GPUBuffer {
    const data = packUniform(fields);
    const buffer = this.runtime.device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
    buffer.unmap();
    this.transient.push(buffer);
    return buffer;
  }

  /**
   * Dispatches `pipeline` with `bindings[i]` at @group(0) @binding(i). A binding is a
   * whole buffer or a { buffer, offset, size } range. `timing` labels the pass for the profiler.
   */
  dispatch(
    pipeline: GPUComputePipeline,
    bindings: (GPUBuffer | GPUBufferBinding)[],
    workgroups: [number, number?, number?],
    timing?: string,
  ): void {
    const bindGroup = this.runtime.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: bindings.map((binding, index) => ({
        binding: index,
        resource: binding instanceof GPUBuffer ? { buffer: binding } : binding,
      })),
    });
    const timestampWrites = timing ? this.runtime.profiler?.timestampWrites(timing) : undefined;
    const pass = this.encoder.beginComputePass({ label: timing ?? pipeline.label, timestampWrites });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    pass.end();
  }

  /** Registers `callback` to run once the GPU has finished this batch, e.g. to free an op's temporaries. */
  onCompleted(callback: () => void): void {
    this.completions.push(callback);
  }

  /** Submits the recorded work; uniform buffers are destroyed once the GPU is done with them. */
  submit(): Promise<void> {
    this.runtime.profiler?.resolve(this.encoder);
    const queue = this.runtime.device.queue;
    queue.submit([this.encoder.finish()]);
    const transient = this.transient.splice(0);
    const completions = this.completions.splice(0);
    return queue.onSubmittedWorkDone().then(() => {
      transient.forEach((buffer) => buffer.destroy());
      completions.forEach((callback) => callback());
    });
  }
}
