/**
 * GPU access for kernel tests in Node through Dawn (the `webgpu` npm package).
 * The Vulkan driver is chosen with VK_ICD_FILENAMES (SwiftShader or Mesa lavapipe).
 * With no adapter the tests fail, unless GPU_TESTS_OPTIONAL=1 is set, in which case
 * they are skipped with a printed reason.
 */
import { create, globals } from 'webgpu';
import { acquireGpu, type GpuContext } from '../src/gpu/device';
import { createRuntime, type GpuRuntime } from '../src/gpu/dispatch';

Object.assign(globalThis, globals);

// Dawn frees its instance when the object returned by create() is garbage collected. Any
// later device event then crashes the process, so a module-level reference keeps it alive.
let dawnInstance: GPU | undefined;
const uncapturedErrors: Error[] = [];

/** Returns and clears the WebGPU errors no error scope caught since the last call. */
export function takeUncapturedErrors(): Error[] {
  return uncapturedErrors.splice(0);
}

let runtime: Promise<GpuRuntime | undefined> | undefined;

async function open(): Promise<GpuRuntime | undefined> {
  let gpu: GpuContext;
  try {
    dawnInstance ??= create([]);
    gpu = await acquireGpu(dawnInstance, {
      // Throwing inside Dawn's event callback would only print the error, so it is
      // collected here and test/setup-gpu.ts fails the running test with it.
      onError: (error) => {
        uncapturedErrors.push(error);
      },
    });
  } catch (error) {
    if (process.env.GPU_TESTS_OPTIONAL === '1') {
      console.warn(`GPU tests skipped: ${(error as Error).message}`);
      return undefined;
    }
    throw new Error(
      `No WebGPU adapter for the GPU tests (${(error as Error).message}). ` +
        'Install chromium (SwiftShader) or mesa-vulkan-drivers 25 and set VK_ICD_FILENAMES; see .ci/run.',
      { cause: error },
    );
  }
  return createRuntime(gpu, { profile: gpu.features.timestampQuery });
}

/** Returns the shared runtime of this test file (one device per file). */
export function gpuRuntime(): Promise<GpuRuntime | undefined> {
  runtime ??= open();
  return runtime;
}

/** Name of the Vulkan driver under test, for test titles and benchmark records. */
export function driverName(): string {
  const icd = process.env.VK_ICD_FILENAMES ?? '';
  if (icd.includes('swiftshader')) return 'swiftshader';
  if (icd.includes('lvp')) return 'lavapipe';
  return icd ? icd : 'default';
}
