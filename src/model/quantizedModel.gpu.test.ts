import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels } from '../../scripts/tiny-models';
import { relativeL2 } from '../../test/expectClose';
import { FileSystemModelSource } from '../../test/fsSource';
import { gpuRuntime } from '../../test/gpu';
import { TransformerModel } from './model';

const MODELS_ROOT = 'public/models';
const PROMPT = Array.from({ length: 21 }, (_, i) => 100 + 7 * i);
/**
 * Per-group int8 weights carry a relative rounding error of about 1/254 of each group's max, so
 * the matrix outputs move by a few 1e-3 relative (measured 3e-3 to 8e-3 on random normal weights).
 * Two layers compound that; 5e-2 on the logits still fails for a wrong scale or a dropped group.
 */
const Q8_LOGIT_BOUND = 5e-2;

beforeAll(async () => {
  await ensureTinyModels(MODELS_ROOT);
}, 120_000);

describe('TransformerModel with q8 weights', () => {
  it('matches the stored-weight logits of tiny-qwen2', async () => {
    const runtime = await gpuRuntime();
    if (!runtime) return;
    const source = new FileSystemModelSource(join(MODELS_ROOT, 'tiny-qwen2'));

    const stored = await TransformerModel.load(runtime, source, { contextLength: 64 });
    await stored.prefill(PROMPT, { chunkSize: 8, attention: { kind: 'dense' } });
    const expected = await stored.readLogits();
    const storedWeights = stored.memory.weights;
    stored.dispose();

    const quantized = await TransformerModel.load(runtime, source, { contextLength: 64, quantize: 'q8' });
    await quantized.prefill(PROMPT, { chunkSize: 8, attention: { kind: 'dense' } });
    const got = await quantized.readLogits();
    const quantizedWeights = quantized.memory.weights;
    quantized.dispose();

    const error = relativeL2(got, expected);
    console.log(`q8 logits relative L2 ${error.toExponential(2)}; weight bytes ${quantizedWeights} vs ${storedWeights}`);
    expect(error).toBeLessThan(Q8_LOGIT_BOUND);
    expect(error).toBeGreaterThan(0);
    // The tied embedding stays as stored, so only the projections shrink.
    expect(quantizedWeights).toBeLessThan(storedWeights);
  });
});
