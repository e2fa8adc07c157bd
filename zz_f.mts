import { gpuRuntime } from '/work/main/test/gpu';
const runtime = (await gpuRuntime())!;
const mode = process.argv[2];
if (mode === 'sleep') await new Promise((r) => setTimeout(r, 300));
if (mode === 'busy') { const t = Date.now(); while (Date.now() - t < 300); }
if (mode === 'alloc') { const a = new Uint8Array(40_000_000); a.fill(1); }
const big = new Uint8Array(4_000_000);
runtime.allocator.createTensorFrom('x', [big.length/4], 'f32', big);
await runtime.device.queue.onSubmittedWorkDone();
console.log('done', mode);
