import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCompareResults } from './compareResults';

const RECORD = 'bench/results/2026-12-04-google-swiftshader-swiftshader-device-subzero-sw.json';

describe('parseCompareResults', () => {
  it('reads a recorded bench/compare.ts result', () => {
    const json = JSON.parse(readFileSync(RECORD, 'utf8'));
    const results = parseCompareResults(json);
    expect(results.title).toBe(`${json.date}, ${json.adapter}`);
    expect(results.inputs).toHaveLength(json.curves.length);
    expect(results.inputs[0]).toMatchObject({ name: json.curves[0].input.name, N: json.curves[0].input.N });
    expect(results.inputs[0].points).toHaveLength(json.curves[0].points.length);
    const methods = new Set(results.inputs[0].points.map((point) => point.method));
    expect(methods).toEqual(new Set(['dense', 'streaming-llm', 'vertical-slash', 'flexprefill', 'xattention', 'oracle', 'anchor']));
    expect(results.inputs[0].points.find((point) => point.method === 'dense')?.knob).toBeNull();
  });

  it('rejects other JSON', () => {
    expect(() => parseCompareResults([1, 2])).toThrow(/expected a JSON object/);
    expect(() => parseCompareResults({ curves: [] })).toThrow(/"curves" must be a non-empty array/);
  });

  it('names the first invalid field', () => {
    const point = { method: 'anchor', knob: 2, density: 0.3, recallMean: 0.9, recallP5: 0.8, relativeL2: 0.1, cosine: 0.99 };
    const record = (points: unknown[]) => ({ curves: [{ input: { name: 'x', N: 64 }, points }] });
    expect(parseCompareResults(record([point])).inputs[0].points[0]).toEqual(point);
    expect(() => parseCompareResults(record([point, { ...point, method: 'magic' }]))).toThrow(/curves\[0\]\.points\[1\]\.method "magic" is not one of/);
    expect(() => parseCompareResults(record([{ ...point, recallMean: 'high' }]))).toThrow(/curves\[0\]\.points\[0\]\.recallMean must be a finite number, got "high"/);
    expect(() => parseCompareResults({ curves: [{ input: { N: 64 }, points: [] }] })).toThrow(/curves\[0\]\.input\.name must be a string/);
  });
});
