/**
 * Reads the JSON record that bench/compare.ts writes to bench/results/<date>-<adapter>.json (the
 * Report of bench/compare-report.ts) into per-input curves, checking every field the chart uses.
 */
import { CURVE_METHODS, type CurveMethod, type CurvePoint, type HeadCurves } from './headCurves';

export interface CompareResults {
  /** "<date>, <adapter>" of the record. */
  title: string;
  inputs: HeadCurves[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

function parsePoint(value: unknown, where: string): CurvePoint {
  if (!isRecord(value)) throw new Error(`${where} must be an object`);
  if (!CURVE_METHODS.includes(value.method as CurveMethod)) throw new Error(`${where}.method ${JSON.stringify(value.method)} is not one of ${CURVE_METHODS.join(', ')}`);
  return {
    method: value.method as CurveMethod,
    knob: value.knob === null || value.knob === undefined ? null : finiteNumber(value.knob, `${where}.knob`),
    density: finiteNumber(value.density, `${where}.density`),
    recallMean: finiteNumber(value.recallMean, `${where}.recallMean`),
    recallP5: finiteNumber(value.recallP5, `${where}.recallP5`),
    relativeL2: finiteNumber(value.relativeL2, `${where}.relativeL2`),
    cosine: finiteNumber(value.cosine, `${where}.cosine`),
  };
}

/**
 * Parses a comparison record. Throws an Error naming the first missing or invalid field, for
 * example when the file is some other JSON.
 */
export function parseCompareResults(json: unknown): CompareResults {
  const op = 'comparison results';
  if (!isRecord(json)) throw new Error(`${op}: expected a JSON object as bench/compare.ts writes it`);
  if (!Array.isArray(json.curves) || json.curves.length === 0) throw new Error(`${op}: "curves" must be a non-empty array; is this a bench/results JSON file?`);
  const inputs = json.curves.map((curve: unknown, index: number): HeadCurves => {
    const where = `${op}: curves[${index}]`;
    if (!isRecord(curve) || !isRecord(curve.input)) throw new Error(`${where}.input must be an object`);
    const input = curve.input;
    if (typeof input.name !== 'string') throw new Error(`${where}.input.name must be a string`);
    if (!Array.isArray(curve.points)) throw new Error(`${where}.points must be an array`);
    return {
      name: input.name,
      description: typeof input.description === 'string' ? input.description : '',
      N: finiteNumber(input.N, `${where}.input.N`),
      points: curve.points.map((point: unknown, i: number) => parsePoint(point, `${where}.points[${i}]`)),
    };
  });
  const date = typeof json.date === 'string' ? json.date : 'undated';
  const adapter = typeof json.adapter === 'string' ? json.adapter : 'no GPU adapter';
  return { title: `${date}, ${adapter}`, inputs };
}
