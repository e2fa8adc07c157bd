import { describe, expect, it } from 'vitest';
import { Random } from '../util/random';
import { roundToCache } from './testInputs';
import { CAPTURE_MAGIC, CaptureFormatError, readCapture, writeCapture, type CaptureInput } from './capture';

/** Two layers of N = 5 tokens, H = 4, Hkv = 2, D = 6: sizes that share no factor with the padding. */
function sampleInput(dtype: 'f32' | 'f16' = 'f32'): CaptureInput {
  const random = new Random(3);
  const layer = (index: number) => ({ layer: index, q: random.normals(5 * 4 * 6), k: random.normals(5 * 2 * 6), v: random.normals(5 * 2 * 6) });
  return { model: 'tiny-qwen2', numHeads: 4, numKvHeads: 2, headDim: 6, positions: [3, 4, 5, 6, 9], dtype, ropeApplied: true, note: 'test', layers: [layer(0), layer(7)] };
}

/** Rewrites the JSON header of a capture file, keeping its padded length when the new text fits. */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => void): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.length > length) throw new Error('edited header no longer fits');
  const copy = bytes.slice();
  copy.fill(0x20, 16, 16 + length);
  copy.set(json, 16);
  return copy;
}

describe('capture files', () => {
  it('round-trips f32 arrays exactly', () => {
    const input = sampleInput();
    const bytes = writeCapture(input);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe(CAPTURE_MAGIC);
    const { header, layers } = readCapture(bytes);
    expect(header).toEqual({
      model: 'tiny-qwen2',
      layers: [0, 7],
      numHeads: 4,
      numKvHeads: 2,
      headDim: 6,
      numTokens: 5,
      positions: [3, 4, 5, 6, 9],
      dtype: 'f32',
      ropeApplied: true,
      note: 'test',
    });
    layers.forEach((layer, i) => {
      expect(layer.layer).toBe(input.layers[i].layer);
      expect(layer.q).toEqual(input.layers[i].q);
      expect(layer.k).toEqual(input.layers[i].k);
      expect(layer.v).toEqual(input.layers[i].v);
    });
  });

  it('round-trips f16 arrays rounded to halves', () => {
    const input = sampleInput('f16');
    const bytes = writeCapture(input);
    // 16-byte preamble, padded header, then 2 layers of (120 + 2 * 60) halves.
    const headerLength = new DataView(bytes.buffer).getUint32(12, true);
    expect(headerLength % 8).toBe(0);
    expect(bytes.length).toBe(16 + headerLength + 2 * 240 * 2);
    const { layers } = readCapture(bytes);
    expect(layers[1].q).toEqual(roundToCache(input.layers[1].q, 'f16'));
    expect(layers[0].v).toEqual(roundToCache(input.layers[0].v, 'f16'));
  });

  it('defaults positions to 0 .. N - 1', () => {
    const { positions: _, ...input } = sampleInput();
    expect(readCapture(writeCapture(input)).header.positions).toEqual([0, 1, 2, 3, 4]);
  });

  it('rejects a truncated file', () => {
    const bytes = writeCapture(sampleInput());
    expect(() => readCapture(bytes.subarray(0, bytes.length - 4))).toThrow(/expected \d+ for 2 layer\(s\) of N = 5.*\(truncated\)/);
    expect(() => readCapture(bytes.subarray(0, 40))).toThrow(/header needs \d+ bytes after the preamble/);
    expect(() => readCapture(bytes.subarray(0, 10))).toThrow(CaptureFormatError);
  });

  it('rejects trailing bytes', () => {
    const bytes = writeCapture(sampleInput());
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expect(() => readCapture(longer)).toThrow(/has trailing bytes/);
  });

  it('rejects a wrong magic or version', () => {
    const bytes = writeCapture(sampleInput());
    const badMagic = bytes.slice();
    badMagic[0] = 0x58;
    expect(() => readCapture(badMagic)).toThrow(/not a Q\/K\/V capture file/);
    const badVersion = bytes.slice();
    new DataView(badVersion.buffer).setUint32(8, 2, true);
    expect(() => readCapture(badVersion)).toThrow(/version 2 is not supported/);
  });

  it('rejects inconsistent headers', () => {
    const bytes = writeCapture(sampleInput());
    const cases: [(header: Record<string, unknown>) => void, RegExp][] = [
      [(h) => (h.numKvHeads = 3), /numHeads 4 is not a multiple of numKvHeads 3/],
      [(h) => (h.numTokens = 4), /"positions" must list numTokens = 4 positions, got 5/],
      [(h) => (h.positions = [3, 4, 4, 6, 9]), /position 4 at index 2 must be a non-negative integer above the previous one/],
      [(h) => (h.dtype = 'bf16'), /"dtype" must be "f32" or "f16"/],
      [(h) => (h.layers = [1, 1]), /layer 1 is listed twice/],
      [(h) => delete h.ropeApplied, /"ropeApplied" must be true or false/],
      [(h) => (h.headDim = 0), /"headDim" must be a positive integer, got 0/],
      // Consistent fields, but the arrays no longer match the declared geometry.
      [(h) => (h.headDim = 3), /expected \d+ for 2 layer\(s\) of N = 5, H = 4, Hkv = 2, D = 3 in f32 \(has trailing bytes\)/],
    ];
    for (const [edit, message] of cases) {
      expect(() => readCapture(withHeader(bytes, edit))).toThrow(message);
    }
  });

  it('rejects a header that is not JSON', () => {
    const bytes = writeCapture(sampleInput());
    const broken = bytes.slice();
    broken[16] = 0x7d;
    expect(() => readCapture(broken)).toThrow(/header is not valid UTF-8 JSON/);
  });

  it('writeCapture rejects arrays of the wrong size', () => {
    const input = sampleInput();
    input.layers[1].k = input.layers[1].k.subarray(1);
    expect(() => writeCapture(input)).toThrow(/writeCapture: k of layer 7 has 59 elements, expected \[5, 2, 6\] = 60/);
    const ragged = sampleInput();
    ragged.layers[0].q = ragged.layers[0].q.subarray(2);
    expect(() => writeCapture(ragged)).toThrow(/q of layer 0 has 118 elements, not a whole number of \[H, D\] = \[4, 6\] rows/);
  });
});
