/**
 * The full-size check behind bench/full-size-check.ts: builds the Qwen2.5-0.5B-shaped model,
 * runs it on the GPU and on the CPU reference, and prints a Markdown summary.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { relativeL2 } from '../test/expectClose';
import { FileSystemModelSource } from '../test/fsSource';
import { acquireGpu } from '../src/gpu/device';
import { createRuntime } from '../src/gpu/dispatch';
import { checkModelFit, DEFAULT_FIT_SETTINGS } from '../src/engine/memoryFit';
import { QWEN25_05B_INSTRUCT } from '../src/engine/realConfigs';
import { parseModelConfig } from '../src/model/config';
import { estimateModelMemory, modelWeightBytes } from '../src/model/memory';
import { TransformerModel } from '../src/model/model';
import { argmax, ReferenceModel } from '../src/model/reference';
import { buildSafetensors } from '../src/model/safetensors';
import { expectedWeightShapes, readWeightsF32 } from '../src/model/weights';

Object.assign(globalThis, globals);

const PROMPT_LENGTH = 12;
const NEW_TOKENS = 4;
const CONTEXT_LENGTH = 512;
/**
 * Bound on the relative L2 error of the last-position logits. Both sides decode the same bf16
 * weights exactly and the reference rounds K and V through f16 as the GPU cache does. What remains
 * is f32 accumulation on the GPU against f64 on the CPU, over dot products of up to 4,864 terms
 * and 24 layers. A wrong op gives errors near 1.
 */
const LOGIT_BOUND = 1e-3;
/** estimateModelMemory must be within this share of the allocator's count. */
const MEMORY_BOUND = 0.1;

/** xorshift32: a fast fixed-seed generator, because a billion bytes of weights are drawn. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/**
 * Random bf16 values: a random sign and 7-bit mantissa with an exponent of 2^-9 .. 2^-6, so
 * magnitudes of 0.002–0.031 (the Qwen initializer's 0.02 scale). Norm weights are 1 ± 1/128.
 */
function randomBf16(count: number, next: () => number, kind: 'weight' | 'norm'): Uint8Array {
  const bits = new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    const r = next();
    if (kind === 'norm') bits[i] = 0x3f80 + (r & 1);
    else bits[i] = ((r >>> 31) << 15) | ((127 - 9 + ((r >>> 7) & 3)) << 7) | (r & 0x7f);
  }
  return new Uint8Array(bits.buffer);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function timed<T>(label: string, work: () => Promise<T>, timings: [string, number][]): Promise<T> {
  const began = performance.now();
  const result = await work();
  timings.push([label, (performance.now() - began) / 1000]);
  console.log(`${label}: ${((performance.now() - began) / 1000).toFixed(1)} s`);
  return result;
}

export async function main(): Promise<number> {
  const timings: [string, number][] = [];
  const config = parseModelConfig(QWEN25_05B_INSTRUCT);
  const folder = await mkdtemp(join(tmpdir(), 'qwen25-05b-random-'));
  let failures = 0;
  try {
    await timed(
      'write random bf16 safetensors',
      async () => {
        const next = xorshift(20250101);
        const tensors = [...expectedWeightShapes(config)].map(([name, shape]) => {
          const count = shape.reduce((a, b) => a * b, 1);
          return { name, dtype: 'BF16' as const, shape, data: randomBf16(count, next, name.endsWith('norm.weight') ? 'norm' : 'weight') };
        });
        await writeFile(join(folder, 'model.safetensors'), buildSafetensors(tensors));
        await writeFile(join(folder, 'config.json'), JSON.stringify(QWEN25_05B_INSTRUCT));
      },
      timings,
    );
    const source = new FileSystemModelSource(folder);

    const dawn = create([]);
    const gpu = await acquireGpu(dawn, { onError: (error) => console.error(`WebGPU error: ${error.message}`) });
    const runtime = createRuntime(gpu, { profile: false });
    const limits = gpu.limits;
    console.log(`adapter: ${gpu.adapterName}, maxStorageBufferBindingSize ${mib(limits.maxStorageBufferBindingSize)}, maxBufferSize ${mib(limits.maxBufferSize)}`);

    const { report } = await checkModelFit(source, limits, { ...DEFAULT_FIT_SETTINGS, attention: 'dense', chunkSize: PROMPT_LENGTH }, { contextLength: CONTEXT_LENGTH });
    console.log(`memory check at ${CONTEXT_LENGTH} tokens: ${report.problems.length === 0 ? 'fits' : report.problems.join('; ')}, longest fitting context ${report.maxFittingContextLength}`);

    const before = runtime.allocator.bytesAllocated;
    const model = await timed('TransformerModel.load', () => TransformerModel.load(runtime, source, { contextLength: CONTEXT_LENGTH, kvDtype: 'f16' }), timings);

    const next = xorshift(7);
    const prompt = Array.from({ length: PROMPT_LENGTH }, () => next() % config.vocabSize);
    const greedy = { temperature: 0, topK: 0, topP: 1, seed: 1 };
    const result = await timed(
      `generate (prefill ${PROMPT_LENGTH} + ${NEW_TOKENS} greedy tokens)`,
      () => model.generate(prompt, { maxNewTokens: NEW_TOKENS, sampling: greedy, stopTokenIds: [], chunkSize: PROMPT_LENGTH, attention: { kind: 'dense' }, onToken: () => {} }),
      timings,
    );
    const allocated = runtime.allocator.bytesAllocated - before;
    const gpuLogits = await model.readLogits();

    const estimate = estimateModelMemory(config, {
      weightBytes: modelWeightBytes(config, 'bf16'),
      weightDtype: 'bf16',
      contextLength: CONTEXT_LENGTH,
      kvDtype: 'f16',
      chunkSize: PROMPT_LENGTH,
    });
    const memoryError = (estimate.total - allocated) / allocated;

    const weights = await timed('decode weights to f32 for the reference', () => readWeightsF32(source, config), timings);
    const reference = new ReferenceModel(config, weights, { kvDtype: 'f16' });
    const referenceTokens = await timed(`reference greedy ${NEW_TOKENS} tokens`, async () => reference.generateGreedy(prompt, NEW_TOKENS), timings);
    // The GPU's last logits are those of the position after the prompt and all generated tokens but the last.
    const referenceLogits = await timed(
      'reference logits at the last position',
      async () => new ReferenceModel(config, weights, { kvDtype: 'f16' }).append([...prompt, ...result.tokens.slice(0, -1)]),
      timings,
    );
    const logitError = relativeL2(gpuLogits, referenceLogits);
    let maxAbs = 0;
    for (let i = 0; i < gpuLogits.length; i++) maxAbs = Math.max(maxAbs, Math.abs(gpuLogits[i] - referenceLogits[i]));

    const tokensMatch = result.tokens.length === referenceTokens.length && result.tokens.every((id, i) => id === referenceTokens[i]);
    if (!tokensMatch) failures++;
    if (!(logitError <= LOGIT_BOUND)) failures++;
    if (!(Math.abs(memoryError) <= MEMORY_BOUND)) failures++;

    console.log('\n## Result\n');
    console.log(`| check | value | bound | pass |`);
    console.log(`| --- | --- | --- | --- |`);
    console.log(`| greedy tokens GPU / reference | ${result.tokens.join(' ')} / ${referenceTokens.join(' ')} | equal | ${tokensMatch ? 'yes' : 'no'} |`);
    console.log(`| last-position logits, relative L2 | ${logitError.toExponential(2)} (max abs ${maxAbs.toExponential(2)}, argmax ${argmax(gpuLogits)} / ${argmax(referenceLogits)}) | ${LOGIT_BOUND} | ${logitError <= LOGIT_BOUND ? 'yes' : 'no'} |`);
    console.log(
      `| estimateModelMemory / bytesAllocated | ${estimate.total} / ${allocated} bytes (${(memoryError * 100).toFixed(2)}%; weights ${mib(estimate.weights)}, KV ${mib(estimate.kvCache)}, activations ${mib(estimate.activations)}) | ±${MEMORY_BOUND * 100}% | ${Math.abs(memoryError) <= MEMORY_BOUND ? 'yes' : 'no'} |`,
    );
    console.log(`\nModel memory measured by TransformerModel.memory: ${JSON.stringify(model.memory)}`);
    console.log('\n## Timings\n');
    for (const [label, seconds] of timings) console.log(`- ${label}: ${seconds.toFixed(1)} s`);
    model.dispose();
    gpu.device.destroy();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  console.log(failures === 0 ? '\nAll checks passed.' : `\n${failures} check(s) failed.`);
  return failures === 0 ? 0 : 1;
}
