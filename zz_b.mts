import { gpuRuntime } from '/work/main/test/gpu';
const runtime = (await gpuRuntime())!;
const big = new Uint8Array(4_000_000);
const t = runtime.allocator.createTensorFrom('x', [big.length/4], 'f32', big);
console.log('written');
await runtime.device.queue.onSubmittedWorkDone();
console.log('done');
