/** The WebGPU feature probe that runs before anything else, so a missing capability shows a clear screen. */
import { acquireGpu, type GpuContext } from '../gpu/device';
import { GpuLimitError } from '../gpu/errors';
import type { GpuSummary } from './protocol';

/**
 * Minimum limits the kernels rely on. They equal the WebGPU defaults, which every conforming
 * adapter offers, so failing one means a non-conforming or restricted (compatibility-mode) adapter.
 */
export const REQUIRED_LIMITS: readonly { name: keyof GPUSupportedLimits & string; minimum: number }[] = [
  { name: 'maxStorageBufferBindingSize', minimum: 128 * 1024 * 1024 },
  { name: 'maxBufferSize', minimum: 256 * 1024 * 1024 },
  { name: 'maxComputeWorkgroupStorageSize', minimum: 16_384 },
  { name: 'maxComputeInvocationsPerWorkgroup', minimum: 256 },
  { name: 'maxStorageBuffersPerShaderStage', minimum: 8 },
];

/** Throws GpuLimitError for the first limit below its minimum. */
export function checkLimits(limits: GPUSupportedLimits): void {
  for (const { name, minimum } of REQUIRED_LIMITS) {
    const available = limits[name] as number;
    if (available < minimum) {
      throw new GpuLimitError(name, minimum, available, 'Use a browser and GPU with full WebGPU support, such as a recent Chrome or Edge on a desktop GPU.');
    }
  }
}

/** Acquires the device and checks its limits; throws WebGpuUnavailableError or GpuLimitError. */
export async function probeGpu(gpu: GPU | undefined, onError: (error: Error) => void): Promise<GpuContext> {
  const context = await acquireGpu(gpu, { onError });
  try {
    checkLimits(context.limits);
  } catch (error) {
    context.device.destroy();
    throw error;
  }
  return context;
}

export function summarizeGpu(context: GpuContext): GpuSummary {
  return {
    adapterName: context.adapterName,
    features: { ...context.features },
    maxStorageBufferBindingSize: context.limits.maxStorageBufferBindingSize,
    maxBufferSize: context.limits.maxBufferSize,
  };
}
