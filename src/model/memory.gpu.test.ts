import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels } from '../../scripts/tiny-models';
import { FileSystemModelSource } from '../../test/fsSource';
import { driverName, gpuRuntime } from '../../test/gpu';
import type { AnchorParams } from '../attention/types';
import { Random } from '../util/random';
import { parseModelConfig } from './config';
import { estimateModelMemory, type MemoryEstimate } from './memory';
import { TransformerModel } from './model';
import { destroyQuantizedWeight, isQuantizedWeight, quantizeWeight, type LinearWeight, type QuantizedWeight } from './ops/quant';
import type { WeightDType } from './ops/kernel';
import { parseSafetensorsHeader, SAFETENSORS_FILE } from './safetensors';
import { expectedWeightShapes } from './weights';

const MODELS_ROOT = 'public/models';
const MODELS = ['tiny-llama', 'tiny-qwen2', 'tiny-qwen3'];
/** The estimate must be within this fraction of what the allocator counts. */
const MAX_RELATIVE_GAP = 0.1;
// Every chunk ends with the 151,936-row lm_head, which software Vulkan runs slowly, so the prompts have few chunks.
const CONTEXT_LENGTH = 48;
const CHUNK = 16;
/** G = 16, so a 48-token prompt has 3 whole groups and the last, sparse one has the most candidates (16). */
const ANCHOR: AnchorParams = { blockSize: 8, step: 2, theta: 3, initGroups: 1, localGroups: 1, denseLastGroup: false };

const WEIGHT_DTYPE = { F32: 'f32', F16: 'f16', BF16: 'bf16' } as const;

/** Stored bytes and dtype of the tensors the model uploads, from the safetensors header. */
async function storedWeights(name: string): Promise<{ weightBytes: number; weightDtype: WeightDType }> {
  const bytes = new Uint8Array(await readFile(join(MODELS_ROOT, name, SAFETENSORS_FILE)));
  const header = parseSafetensorsHeader(bytes, SAFETENSORS_FILE);
  const configJson = JSON.parse(await readFile(join(MODELS_ROOT, name, 'config.json'), 'utf8')) as unknown;
  const expected = expectedWeightShapes(parseModelConfig(configJson));
  let weightBytes = 0;
  let weightDtype: WeightDType = 'f32';
  for (const [tensorName, info] of header.tensors) {
    if (!expected.has(tensorName)) continue;
    weightBytes += info.dataOffsets[1] - info.dataOffsets[0];
    weightDtype = WEIGHT_DTYPE[info.dtype];
  }
  return { weightBytes, weightDtype };
}

/** Returns a weight as stored, for quantizing it here. */
function storedWeight(weight: LinearWeight): Exclude<LinearWeight, QuantizedWeight> {
  if (isQuantizedWeight(weight)) throw new Error(`${weight.label} is already quantized; load the model without quantize`);
  return weight;
}

function randomPrompt(seed: number, length: number): number[] {
  const random = new Random(seed);
  // Ids below 151643 are ordinary byte-pair tokens.
  return Array.from({ length }, () => random.int(151_643));
}

function expectWithinGap(label: string, estimate: number, measured: number): void {
  const gap = Math.abs(estimate - measured) / measured;
  console.log(`${label} on ${driverName()}: estimate ${estimate} bytes, allocated ${measured} (gap ${(gap * 100).toFixed(3)} %)`);
  expect(gap).toBeLessThan(MAX_RELATIVE_GAP);
}

beforeAll(async () => {
  await ensureTinyModels(MODELS_ROOT);
}, 120_000);

describe.each(MODELS)('memory estimate of %s', (name) => {
  const source = new FileSystemModelSource(join(MODELS_ROOT, name));

  // One load per model, because loading and compiling the forward's kernels dominate the run time on software Vulkan.
  it('matches dense and AnchorAttention prefill', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const stored = await storedWeights(name);
    const before = runtime.allocator.bytesAllocated;
    const model = await TransformerModel.load(runtime, source, { contextLength: CONTEXT_LENGTH, kvDtype: 'f16' });
    try {
      await model.prefill(randomPrompt(1, 20), { chunkSize: CHUNK, attention: { kind: 'dense' } });
      const dense = estimateModelMemory(model.config, { ...stored, contextLength: CONTEXT_LENGTH, kvDtype: 'f16', chunkSize: CHUNK });
      expect(dense.weights).toBe(model.memory.weights);
      expect(dense.kvCache).toBe(model.memory.kvCache);
      expect(dense.breakdown.workspace).toBe(model.memory.workspace);
      // No token has been sampled yet, so the sampling scratch is not allocated.
      expectWithinGap(`${name} dense`, dense.total, runtime.allocator.bytesAllocated - before);

      runtime.allocator.peakBytesAllocated = runtime.allocator.bytesAllocated;
      await model.prefill(randomPrompt(2, CONTEXT_LENGTH), { chunkSize: CHUNK, attention: { kind: 'anchor', params: ANCHOR } });
      const anchor: MemoryEstimate = estimateModelMemory(model.config, {
        ...stored,
        contextLength: CONTEXT_LENGTH,
        kvDtype: 'f16',
        chunkSize: CHUNK,
        attention: 'anchor',
        anchorParams: ANCHOR,
      });
      expect(anchor.breakdown.workspace).toBe(model.memory.workspace);
      expect(anchor.breakdown.anchorMaxCandidates).toBe(16);
      const steady = runtime.allocator.bytesAllocated - before;
      const peak = runtime.allocator.peakBytesAllocated - before;
      // The temporaries of the last chunk, all layers together, are the difference between the peak and now.
      expect(anchor.breakdown.anchorTemporaries).toBe(peak - steady);
      expectWithinGap(`${name} anchor peak`, anchor.total, peak);
    } finally {
      model.dispose();
    }
  }, 900_000);

  it('matches the bytes of q8 weights', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const stored = await storedWeights(name);
    const model = await TransformerModel.load(runtime, source, { contextLength: CONTEXT_LENGTH });
    const quantized: QuantizedWeight[] = [];
    try {
      const before = runtime.allocator.bytesAllocated;
      // The matrices q8 replaces: every linear weight of a layer, and lm_head unless it is the embedding.
      for (const layer of model.weights.layers) {
        for (const weight of [layer.qProj, layer.kProj, layer.vProj, layer.oProj, layer.gateProj, layer.upProj, layer.downProj]) {
          quantized.push(quantizeWeight(runtime, storedWeight(weight)));
        }
      }
      if (!model.weights.tied) quantized.push(quantizeWeight(runtime, storedWeight(model.weights.lmHead)));
      const q8Bytes = runtime.allocator.bytesAllocated - before;

      const estimate = estimateModelMemory(model.config, { ...stored, contextLength: CONTEXT_LENGTH, kvDtype: 'f16', chunkSize: CHUNK, quantize: 'q8' });
      expect(estimate.breakdown.quantized.matrices).toBe(quantized.length);
      expect(estimate.breakdown.quantized.q8Bytes).toBe(q8Bytes);
      expect(quantized.reduce((sum, weight) => sum + weight.byteLength, 0)).toBe(q8Bytes);
      expect(estimate.weights).toBe(model.memory.weights - estimate.breakdown.quantized.storedBytes + q8Bytes);
    } finally {
      quantized.forEach((weight) => destroyQuantizedWeight(runtime, weight));
      model.dispose();
    }
  }, 600_000);
});
