import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModels } from '../../scripts/tiny-models';
import { FileSystemModelSource } from '../../test/fsSource';
import { driverName, gpuRuntime } from '../../test/gpu';
import type { GpuRuntime } from '../gpu/dispatch';
import { TransformerModel } from '../model/model';
import { Random } from '../util/random';
import type { AnchorParams, AttentionMode } from '../attention/types';
import { AnchorStatsCollector } from './anchorStatsCollector';

const MODELS_ROOT = 'public/models';
const GREEDY = { temperature: 0, topK: 0, topP: 1, seed: 1 };
/** 53 tokens with G = 8: six sparse groups and a dense tail of 5 rows. */
const PROMPT_LENGTH = 53;
/** Small groups so the short prompt has several; init and local as in the defaults. */
const SMALL_GROUPS: AnchorParams = { blockSize: 4, step: 2, theta: 12, initGroups: 1, localGroups: 1, denseLastGroup: false };
// A head that computed every causal pair ran the same f32 softmax as dense up to summation order.
const FULL_DENSITY_RECALL = 1e-5;
const FULL_DENSITY_L2 = 1e-4;

function randomPrompt(seed: number, length: number): number[] {
  const random = new Random(seed);
  // Ids below 151643 are ordinary byte-pair tokens, so no end-of-sequence id is in the prompt.
  return Array.from({ length }, () => random.int(151_643));
}

beforeAll(async () => {
  await ensureTinyModels(MODELS_ROOT);
}, 120_000);

describe(`AnchorAttention prefill statistics on tiny-qwen2 (${driverName()})`, () => {
  let runtime: GpuRuntime | undefined;
  let model: TransformerModel;

  beforeAll(async () => {
    runtime = await gpuRuntime();
    if (!runtime) return;
    model = await TransformerModel.load(runtime, new FileSystemModelSource(join(MODELS_ROOT, 'tiny-qwen2')), { contextLength: 96, kvDtype: 'f16' });
  }, 300_000);

  afterAll(() => model?.dispose());

  async function greedy(prompt: number[], attention: AttentionMode): Promise<number[]> {
    model.resetCache();
    const result = await model.generate(prompt, { maxNewTokens: 6, sampling: GREEDY, chunkSize: 8, attention, onToken: () => {} });
    return result.tokens;
  }

  it('theta infinite gives the dense greedy tokens', async () => {
    if (!runtime) return;
    const prompt = randomPrompt(21, PROMPT_LENGTH);
    const dense = await greedy(prompt, { kind: 'dense' });
    const sparse = await greedy(prompt, { kind: 'anchor', params: { ...SMALL_GROUPS, theta: Infinity } });
    expect(sparse).toEqual(dense);
  }, 300_000);

  const runs: { theta: number; timing?: 'cpu' }[] = [{ theta: 12 }, { theta: 0.5 }, { theta: 0.5, timing: 'cpu' }];
  for (const { theta, timing } of runs) {
    it(`per-head statistics are consistent, theta ${theta}${timing ? `, ${timing} timing` : ''}`, async () => {
      if (!runtime) return;
      const prompt = randomPrompt(22, PROMPT_LENGTH);
      const params = { ...SMALL_GROUPS, theta };
      const config = model.config;
      const collector = new AnchorStatsCollector({
        runtime,
        cache: model.cache,
        shape: { numHeads: config.numHeads, numKvHeads: config.numKvHeads, headDim: config.headDim },
        numLayers: config.numLayers,
        params,
        prompt,
        detailed: true,
        seed: 3,
        timing,
      });
      model.resetCache();
      try {
        const result = await model.prefill(prompt, { chunkSize: 8, attention: { kind: 'anchor', params }, onQuery: collector.onQuery, onAnchorChunk: collector.onAnchorChunk });
        const stats = collector.finish(result.reusedTokens);
        // The read-back between chunks is time the prefill's wall clock includes and the statistics subtract.
        expect(collector.overheadMs).toBeGreaterThan(0);
        expect(collector.overheadMs).toBeLessThan(result.prefillMs);
        expect(stats.chunks.map((chunk) => (chunk.region ? 'anchor' : 'dense'))).toEqual(['anchor', 'anchor', 'anchor', 'anchor', 'anchor', 'anchor', 'dense']);
        expect(stats.layers).toHaveLength(config.numLayers);
        expect(stats.sampledRows.length).toBeGreaterThan(16);
        if (timing === 'cpu') expect(stats.timing).toBe('cpu');
        let partialHeads = 0;
        for (const { layer, heads } of stats.layers) {
          expect(heads).toHaveLength(config.numHeads);
          heads.forEach((head, h) => {
            const where = `layer ${layer}, head ${h}`;
            expect(head.density, where).toBeGreaterThanOrEqual(stats.anchorOnlyDensity);
            expect(head.density, where).toBeLessThanOrEqual(1);
            expect(head.stripeShare, where).toBeLessThanOrEqual(head.density - stats.anchorOnlyDensity + 1e-12);
            expect(head.workBound).toBeCloseTo(1 / head.density, 12);
            expect(head.recallMean, where).toBeDefined();
            expect(head.recallP5!, where).toBeLessThanOrEqual(head.recallMean! + 1e-12);
            expect(head.recallMean!, where).toBeLessThanOrEqual(1 + FULL_DENSITY_RECALL);
            expect(head.relativeL2, where).toBeDefined();
            expect(head.anchorMs, where).toBeGreaterThan(0);
            expect(head.denseMs, where).toBeGreaterThan(0);
            expect(head.speedup, where).toBeCloseTo(head.denseMs! / head.anchorMs!, 12);
            // Selection and sparse compute are timed apart only with timestamp queries.
            if (stats.timing === 'timestamp-query') expect(head.selectMs! + head.sparseMs!, where).toBeCloseTo(head.anchorMs!, 9);
            else expect(head.selectMs, where).toBeUndefined();
            const stripeLists = stats.stripes[layer][h];
            expect(stripeLists).toHaveLength(stats.chunks.length);
            if (head.density === 1) {
              expect(Math.abs(head.recallMean! - 1), where).toBeLessThan(FULL_DENSITY_RECALL);
              expect(Math.abs(head.recallP5! - 1), where).toBeLessThan(FULL_DENSITY_RECALL);
              expect(head.relativeL2!, where).toBeLessThan(FULL_DENSITY_L2);
            } else {
              partialHeads++;
            }
          });
        }
        console.log(
          `theta ${theta}: anchor-only density ${stats.anchorOnlyDensity.toFixed(3)}, densities ` +
            stats.layers.map((layer) => layer.heads.map((head) => head.density.toFixed(3)).join(' ')).join(' | ') +
            `, relative L2 max ${Math.max(...stats.layers.flatMap((layer) => layer.heads.map((head) => head.relativeL2!))).toExponential(2)}, timing ${stats.timing}`,
        );
        // A small theta drops candidates in some head; the default keeps every key of a random model.
        if (theta < 1) expect(partialHeads).toBeGreaterThan(0);
      } finally {
        collector.dispose();
      }
    }, 600_000);
  }
});
