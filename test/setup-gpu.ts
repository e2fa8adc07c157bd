// Installs Dawn's WebGPU globals (GPUBufferUsage, GPUMapMode, ...) before any test module
// loads, and fails a test when WebGPU reported an error during it (a WGSL compile error
// or an invalid dispatch would otherwise only be printed).
import { globals } from 'webgpu';
import { afterEach } from 'vitest';

Object.assign(globalThis, globals);

afterEach(async () => {
  const { gpuRuntime, takeUncapturedErrors } = await import('./gpu');
  const runtime = await gpuRuntime();
  // Uncaptured errors arrive as events; waiting for the queue lets pending ones land first.
  if (runtime) await runtime.device.queue.onSubmittedWorkDone();
  const errors = takeUncapturedErrors();
  if (errors.length > 0) {
    throw new Error(`WebGPU reported ${errors.length} uncaptured error(s):\n${errors.map((error) => error.message).join('\n')}`);
  }
});
