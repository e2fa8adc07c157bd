import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../src/model/config';
import { ReferenceModel } from '../src/model/reference';
import { readWeightsF32 } from '../src/model/weights';
import { ensureTinyModels } from '../scripts/tiny-models';
import { FileSystemModelSource } from '../test/fsSource';
import { layerZeroQkv, needleTokens, syntheticInputs } from './compare-inputs';
import { markdownReport, svgPlot, type InputResult } from './compare-report';
import { sweepConfig } from './compare-run';
import { matchedPoint, sweepInput } from './compare-sweep';

describe('compare sweep', () => {
  it('scores every method on a small head', () => {
    const [input] = syntheticInputs(192, 16, 3);
    const config = sweepConfig(192);
    // theta = 1e9 keeps every candidate, so AnchorAttention must equal dense.
    config.knobs.anchor = [0, 1e9];
    const points = sweepInput(input, config);
    const dense = points.find((point) => point.method === 'dense')!;
    expect(dense.density).toBe(1);
    expect(dense.recallMean).toBeCloseTo(1, 12);
    expect(dense.relativeL2).toBeLessThan(1e-6);
    const anchorAll = points.find((point) => point.method === 'anchor' && point.knob === 1e9)!;
    expect(anchorAll.density).toBe(1);
    expect(anchorAll.relativeL2).toBeLessThan(1e-6);
    for (const method of ['streaming-llm', 'vertical-slash', 'flexprefill', 'xattention', 'oracle'] as const) {
      const series = points.filter((point) => point.method === method);
      expect(series.length).toBe(config.knobs[method].length);
      for (const point of series) {
        expect(point.density).toBeGreaterThan(0);
        expect(point.density).toBeLessThanOrEqual(1);
        expect(point.recallP5).toBeLessThanOrEqual(point.recallMean + 1e-12);
      }
    }
    // The oracle keeps more keys as theta grows, so density and recall never fall.
    const oracle = points.filter((point) => point.method === 'oracle');
    for (let i = 1; i < oracle.length; i++) {
      expect(oracle[i].density).toBeGreaterThanOrEqual(oracle[i - 1].density);
      expect(oracle[i].recallMean).toBeGreaterThanOrEqual(oracle[i - 1].recallMean - 1e-12);
    }
    expect(points.find((point) => point.method === 'flexprefill')!.blockMasks).toHaveLength(1);
    expect(matchedPoint(points, 'anchor', 1)!.knob).toBe(1e9);
  });

  it('writes every method into the records', () => {
    const [input] = syntheticInputs(128, 16, 5);
    const points = sweepInput(input, sweepConfig(128));
    const curves: InputResult[] = [{ input, points }];
    const svg = svgPlot(curves, 'test plot');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const markdown = markdownReport({ date: '2026-01-01', adapter: null, clock: null, command: 'test', config: {}, curves, timings: [], notes: [] }, 0.95);
    for (const method of ['dense', 'streaming-llm', 'vertical-slash', 'flexprefill', 'xattention', 'oracle', 'anchor']) {
      expect(svg).toContain(`>${method}</text>`);
      expect(markdown).toContain(`| ${method} |`);
    }
  });
});

describe('layerZeroQkv', () => {
  for (const model of ['tiny-qwen2', 'tiny-qwen3']) {
    it(`matches the reference model's layer-0 keys: ${model}`, async () => {
      await ensureTinyModels();
      const dir = join('public/models', model);
      const config = parseModelConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
      const weights = await readWeightsF32(new FileSystemModelSource(dir), config);
      const tokens = needleTokens(24, 1);
      const { k, v } = layerZeroQkv(config, weights, tokens);
      const reference = new ReferenceModel(config, weights);
      reference.append(tokens);
      // The reference keeps its KV cache private; this test reads it to check the post-RoPE keys.
      const cache = reference as unknown as { keys: Float64Array[][]; values: Float64Array[][] };
      const width = config.numKvHeads * config.headDim;
      for (let t = 0; t < tokens.length; t++) {
        for (let i = 0; i < width; i++) {
          // Both compute in f64 from the same weights; the captured arrays are rounded to f32 (relative 6e-8).
          const kRef = cache.keys[0][t][i];
          const vRef = cache.values[0][t][i];
          expect(Math.abs(k[t * width + i] - kRef)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(kRef)));
          expect(Math.abs(v[t * width + i] - vRef)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(vRef)));
        }
      }
      // Reading and decoding the 151,936-token embedding takes seconds on a slow machine.
    }, 120_000);
  }
});
