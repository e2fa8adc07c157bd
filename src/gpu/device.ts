import { GpuDeviceLostError, WebGpuUnavailableError, toGpuError } from './errors';

/** Features the kernels can use when present; none of them is required. */
export interface GpuFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
}

/** A device with the adapter's own limits and the optional features it grants. */
export interface GpuContext {
  device: GPUDevice;
  adapterName: string;
  features: GpuFeatures;
  limits: GPUSupportedLimits;
  /** Resolves when the device is lost, with the typed error that explains it. */
  lost: Promise<GpuDeviceLostError>;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Receives uncaptured validation, out-of-memory and internal errors. */
  onError?: (error: Error) => void;
}

/** Limits requested at the adapter's maximum, because model tensors and attention tiles need them. */
const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups' as GPUFeatureName, 'timestamp-query'];

/**
 * Requests an adapter and a device with the adapter's own limits and every optional
 * feature it offers. `gpu` defaults to `navigator.gpu`; Node tests pass Dawn's.
 */
export async function acquireGpu(gpu: GPU | undefined = globalThis.navigator?.gpu, options: AcquireOptions = {}): Promise<GpuContext> {
  if (!gpu) {
    throw new WebGpuUnavailableError(
      'WebGPU is not available in this browser. Use a recent Chrome or Edge (version 113 or later), ' +
        'or enable WebGPU in your browser settings, and make sure the page is served over HTTPS or from localhost.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new WebGpuUnavailableError(
      'No WebGPU adapter was found. Update the graphics driver, turn on hardware acceleration in the browser settings, ' +
        'or try another browser.',
    );
  }

  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });

  device.addEventListener('uncapturederror', (event) => {
    const error = toGpuError((event as GPUUncapturedErrorEvent).error);
    if (options.onError) options.onError(error);
    else console.error(error);
  });
  const lost = device.lost.then((info) => new GpuDeviceLostError(info.reason, info.message));

  const info = adapter.info;
  const adapterName = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  return {
    device,
    adapterName,
    features: {
      shaderF16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups'),
      timestampQuery: device.features.has('timestamp-query'),
    },
    limits: device.limits,
    lost,
  };
}

/**
 * Runs `work` inside validation and out-of-memory error scopes and throws the first
 * error either scope caught, so a bad dispatch fails where it was issued.
 */
export async function withErrorScopes<T>(device: GPUDevice, work: () => T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const result = work();
  const validation = await device.popErrorScope();
  const outOfMemory = await device.popErrorScope();
  const error = validation ?? outOfMemory;
  if (error) throw toGpuError(error);
  return result;
}
