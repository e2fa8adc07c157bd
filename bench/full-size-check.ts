/**
 * `npm run check:full-size`: loads a model with the exact config.json of Qwen2.5-0.5B-Instruct and
 * random bf16 weights (about 1 GB, written to a temporary folder at run time) through
 * TransformerModel.load on this machine's WebGPU adapter in Node (Dawn). Then it prefills a
 * prompt and decodes a few greedy tokens. The checks: the last-position logits against the CPU reference
 * (src/model/reference.ts), the greedy tokens against the reference's, and estimateModelMemory
 * against the allocator's bytesAllocated. Too slow for the test suite on software Vulkan, so it
 * is a benchmark-lane check; bench/FULL_SIZE.md records a run.
 *
 * Usage: VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json npx tsx bench/full-size-check.ts
 * (lavapipe, whose 128 MiB binding limit forces the row split of the 272 MB embedding).
 */
import { register } from 'node:module';

register('./anchor-raw-hooks.mjs', import.meta.url);

const { main } = await import('./full-size-run');
process.exitCode = await main();
