/** WebGPU is missing from the browser, or no adapter could be obtained. */
export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

/** The adapter lacks a limit the app needs (for example a large enough storage binding). */
export class GpuLimitError extends Error {
  override name = 'GpuLimitError';
  constructor(
    readonly limit: string,
    readonly required: number,
    readonly available: number,
    hint: string,
  ) {
    super(`GPU limit ${limit} is ${available}, but ${required} is required. ${hint}`);
  }
}

/** The device was lost (driver reset, tab in background too long, out of memory, or destroy()). */
export class GpuDeviceLostError extends Error {
  override name = 'GpuDeviceLostError';
  constructor(
    readonly reason: GPUDeviceLostReason,
    detail: string,
  ) {
    super(
      `The GPU device was lost (${reason}): ${detail || 'no detail from the driver'}. ` +
        'Reload the page to start a new device; if it happens again, close other GPU-heavy tabs or choose a smaller model.',
    );
  }
}

/** A validation, out-of-memory or internal error that WebGPU reported asynchronously. */
export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal',
    detail: string,
  ) {
    super(
      kind === 'out-of-memory'
        ? `The GPU ran out of memory: ${detail}. Choose a smaller model or a shorter context.`
        : `WebGPU ${kind} error: ${detail}`,
    );
  }
}

/** Wraps a GPUError from an error scope or an uncaptured-error event in a typed error. */
export function toGpuError(error: GPUError): GpuValidationError {
  if (error instanceof GPUOutOfMemoryError) return new GpuValidationError('out-of-memory', error.message);
  if (error instanceof GPUValidationError) return new GpuValidationError('validation', error.message);
  return new GpuValidationError('internal', error.message);
}
