import { describe, expect, it } from 'vitest';
import { gpuRuntime } from '../../test/gpu';
import { readF32 } from './buffers';

describe('BufferAllocator', () => {
  it('round-trips f32 data and counts bytes', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const before = runtime.allocator.bytesAllocated;
    const data = new Float32Array([1, 2, 3, 4.5, -7]);
    const tensor = runtime.allocator.createTensorFrom('x', [5], 'f32', data);
    expect(runtime.allocator.bytesAllocated - before).toBe(20);
    expect(Array.from(await readF32(runtime.device, tensor))).toEqual(Array.from(data));
    runtime.allocator.destroyTensor(tensor);
    expect(runtime.allocator.bytesAllocated).toBe(before);
  });
});
