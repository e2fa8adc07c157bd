/**
 * `npm run bench`: AnchorAttention prefill against dense attention on this machine's WebGPU
 * adapter, through Dawn in Node. The kernels' host code imports WGSL with Vite's `?raw` suffix,
 * so Node module hooks that load those files as strings are registered before it is imported.
 * See bench/anchor-run.ts for the benchmark itself.
 */
import { register } from 'node:module';

register('./anchor-raw-hooks.mjs', import.meta.url);

const { main } = await import('./anchor-run');
process.exitCode = await main(process.argv.slice(2));
