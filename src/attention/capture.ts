/**
 * Q/K/V capture files: the attention inputs of one or more layers of a model over one prompt, so that
 * selection methods can be compared offline on real activations (bench/compare.ts --capture FILE).
 *
 * Byte layout, version 1 (all integers and floats little-endian):
 *
 *   offset  size  content
 *   0       8     magic, the ASCII bytes "QKVCAPT\0"
 *   8       4     u32 format version, 1
 *   12      4     u32 L, the byte length of the JSON header; L is a multiple of 8
 *   16      L     UTF-8 JSON header (CaptureHeader), padded at the end with spaces (0x20) to length L
 *   16 + L  ...   per entry of header.layers, in order: q [N, H, D], then k [N, Hkv, D], then v [N, Hkv, D],
 *                 row-major, each element 4 bytes (f32) or 2 bytes (IEEE half, f16), with no padding
 *
 * The file ends right after the last array: its size is exactly
 * 16 + L + layers.length · (N·H·D + 2·N·Hkv·D) · bytesPerElement.
 * Query head h reads KV head h / (H / Hkv), as in the model. With ropeApplied, q and k are taken after
 * RoPE (and after Qwen3's per-head q/k RMSNorm), as attention consumes them.
 */
import { decode16, encode16 } from '../util/halfFloat';

export const CAPTURE_MAGIC = 'QKVCAPT\0';
export const CAPTURE_VERSION = 1;
const PREAMBLE_BYTES = 16;

/** The JSON header of a capture file. */
export interface CaptureHeader {
  /** Model name or repo id, for example "Qwen/Qwen2.5-0.5B-Instruct". */
  model: string;
  /** Layer index of each stored entry, in file order; distinct. */
  layers: number[];
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** N, the number of captured tokens. */
  numTokens: number;
  /** Absolute position of each captured token, [N] ascending integers (RoPE used these). */
  positions: number[];
  /** Element type of the stored arrays. */
  dtype: 'f32' | 'f16';
  /** True when q and k are stored after RoPE. */
  ropeApplied: boolean;
  /** Free-form provenance, for example the prompt's source or the tokenizer. */
  note?: string;
}

/** One layer's attention inputs, as f32 row-major arrays. */
export interface CaptureLayer {
  layer: number;
  /** [N, H, D] */
  q: Float32Array;
  /** [N, Hkv, D] */
  k: Float32Array;
  /** [N, Hkv, D] */
  v: Float32Array;
}

export interface Capture {
  header: CaptureHeader;
  layers: CaptureLayer[];
}

/** Options of writeCapture; layers, positions and numTokens are derived from the arrays when left out. */
export interface CaptureInput {
  model: string;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Defaults to 0 .. N - 1. */
  positions?: number[];
  /** Default 'f32'; 'f16' halves the file and rounds every element to the nearest half. */
  dtype?: 'f32' | 'f16';
  ropeApplied: boolean;
  note?: string;
  layers: CaptureLayer[];
}

/** Error of a capture file that is malformed or inconsistent; the message names the problem. */
export class CaptureFormatError extends Error {
  override name = 'CaptureFormatError';
}

function fail(message: string): never {
  throw new CaptureFormatError(message);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

/** Throws a CaptureFormatError naming the first field of `header` that is missing or inconsistent. */
export function checkCaptureHeader(header: CaptureHeader): void {
  const op = 'capture header';
  if (typeof header !== 'object' || header === null) fail(`${op}: expected a JSON object`);
  if (typeof header.model !== 'string') fail(`${op}: "model" must be a string, got ${JSON.stringify(header.model)}`);
  for (const field of ['numHeads', 'numKvHeads', 'headDim', 'numTokens'] as const) {
    if (!isPositiveInteger(header[field])) fail(`${op}: "${field}" must be a positive integer, got ${JSON.stringify(header[field])}`);
  }
  if (header.numHeads % header.numKvHeads !== 0) {
    fail(`${op}: numHeads ${header.numHeads} is not a multiple of numKvHeads ${header.numKvHeads}`);
  }
  if (header.dtype !== 'f32' && header.dtype !== 'f16') fail(`${op}: "dtype" must be "f32" or "f16", got ${JSON.stringify(header.dtype)}`);
  if (typeof header.ropeApplied !== 'boolean') fail(`${op}: "ropeApplied" must be true or false, got ${JSON.stringify(header.ropeApplied)}`);
  if (header.note !== undefined && typeof header.note !== 'string') fail(`${op}: "note" must be a string when present`);
  if (!Array.isArray(header.layers) || header.layers.length === 0) fail(`${op}: "layers" must be a non-empty array of layer indices`);
  const seen = new Set<number>();
  for (const layer of header.layers) {
    if (!Number.isInteger(layer) || layer < 0) fail(`${op}: layer index ${JSON.stringify(layer)} must be a non-negative integer`);
    if (seen.has(layer)) fail(`${op}: layer ${layer} is listed twice`);
    seen.add(layer);
  }
  if (!Array.isArray(header.positions) || header.positions.length !== header.numTokens) {
    fail(`${op}: "positions" must list numTokens = ${header.numTokens} positions, got ${Array.isArray(header.positions) ? header.positions.length : typeof header.positions}`);
  }
  header.positions.forEach((position, i) => {
    if (!Number.isInteger(position) || position < 0 || (i > 0 && position <= header.positions[i - 1])) {
      fail(`${op}: position ${JSON.stringify(position)} at index ${i} must be a non-negative integer above the previous one`);
    }
  });
}

/** Elements of q and of k (or v) per layer. */
function arraySizes(header: CaptureHeader): { qElements: number; kvElements: number } {
  return {
    qElements: header.numTokens * header.numHeads * header.headDim,
    kvElements: header.numTokens * header.numKvHeads * header.headDim,
  };
}

/** Expected total file size for a header of `headerBytes` padded bytes. */
export function captureByteLength(header: CaptureHeader, headerBytes: number): number {
  const { qElements, kvElements } = arraySizes(header);
  const bytesPerElement = header.dtype === 'f16' ? 2 : 4;
  return PREAMBLE_BYTES + headerBytes + header.layers.length * (qElements + 2 * kvElements) * bytesPerElement;
}

/**
 * Serialises per-layer Q [N, H, D] and K/V [N, Hkv, D] (f32) into a capture file. Throws an Error
 * naming the layer and the array whose length does not match the declared geometry.
 */
export function writeCapture(input: CaptureInput): Uint8Array {
  const op = 'writeCapture';
  const dtype = input.dtype ?? 'f32';
  if (input.layers.length === 0) throw new Error(`${op}: no layers to write`);
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = input;
  if (!isPositiveInteger(H) || !isPositiveInteger(Hkv) || !isPositiveInteger(D)) {
    throw new Error(`${op}: numHeads ${H}, numKvHeads ${Hkv} and headDim ${D} must be positive integers`);
  }
  const N = input.layers[0].q.length / (H * D);
  if (!isPositiveInteger(N)) throw new Error(`${op}: q of layer ${input.layers[0].layer} has ${input.layers[0].q.length} elements, not a whole number of [H, D] = [${H}, ${D}] rows`);
  const header: CaptureHeader = {
    model: input.model,
    layers: input.layers.map((entry) => entry.layer),
    numHeads: H,
    numKvHeads: Hkv,
    headDim: D,
    numTokens: N,
    positions: input.positions ?? Array.from({ length: N }, (_, i) => i),
    dtype,
    ropeApplied: input.ropeApplied,
    ...(input.note !== undefined ? { note: input.note } : {}),
  };
  try {
    checkCaptureHeader(header);
  } catch (error) {
    throw new Error(`${op}: ${(error as Error).message}`, { cause: error });
  }
  const { qElements, kvElements } = arraySizes(header);
  for (const entry of input.layers) {
    const expected: [string, Float32Array, number, string][] = [
      ['q', entry.q, qElements, `[${N}, ${H}, ${D}]`],
      ['k', entry.k, kvElements, `[${N}, ${Hkv}, ${D}]`],
      ['v', entry.v, kvElements, `[${N}, ${Hkv}, ${D}]`],
    ];
    for (const [name, data, elements, shape] of expected) {
      if (data.length !== elements) throw new Error(`${op}: ${name} of layer ${entry.layer} has ${data.length} elements, expected ${shape} = ${elements}`);
    }
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(captureByteLength(header, headerBytes));
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = CAPTURE_MAGIC.charCodeAt(i);
  view.setUint32(8, CAPTURE_VERSION, true);
  view.setUint32(12, headerBytes, true);
  bytes.set(json, PREAMBLE_BYTES);
  bytes.fill(0x20, PREAMBLE_BYTES + json.length, PREAMBLE_BYTES + headerBytes);

  let offset = PREAMBLE_BYTES + headerBytes;
  for (const entry of input.layers) {
    for (const data of [entry.q, entry.k, entry.v]) {
      if (dtype === 'f32') {
        for (let i = 0; i < data.length; i++) view.setFloat32(offset + 4 * i, data[i], true);
        offset += 4 * data.length;
      } else {
        const halves = encode16(data, 'f16');
        for (let i = 0; i < halves.length; i++) view.setUint16(offset + 2 * i, halves[i], true);
        offset += 2 * halves.length;
      }
    }
  }
  return bytes;
}

/**
 * Parses a capture file. Throws a CaptureFormatError that names the problem: wrong magic, an
 * unsupported version, a truncated file, invalid JSON, a header field that is missing or
 * inconsistent, or a size that does not match the header.
 */
export function readCapture(bytes: Uint8Array): Capture {
  if (bytes.length < PREAMBLE_BYTES) fail(`capture file: ${bytes.length} bytes is shorter than the ${PREAMBLE_BYTES}-byte preamble (truncated?)`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== CAPTURE_MAGIC) fail(`capture file: magic ${JSON.stringify(magic)} is not ${JSON.stringify(CAPTURE_MAGIC)}; not a Q/K/V capture file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CAPTURE_VERSION) fail(`capture file: version ${version} is not supported; this reader reads version ${CAPTURE_VERSION}`);
  const headerBytes = view.getUint32(12, true);
  if (headerBytes % 8 !== 0) fail(`capture file: header length ${headerBytes} is not a multiple of 8`);
  if (PREAMBLE_BYTES + headerBytes > bytes.length) {
    fail(`capture file: the header needs ${headerBytes} bytes after the preamble, but only ${bytes.length - PREAMBLE_BYTES} remain (truncated?)`);
  }
  let header: CaptureHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes)));
  } catch (error) {
    throw new CaptureFormatError(`capture file: the header is not valid UTF-8 JSON: ${(error as Error).message}`, { cause: error });
  }
  checkCaptureHeader(header);
  const expectedBytes = captureByteLength(header, headerBytes);
  if (bytes.length !== expectedBytes) {
    const problem = bytes.length < expectedBytes ? 'truncated' : 'has trailing bytes';
    fail(
      `capture file: ${bytes.length} bytes, expected ${expectedBytes} for ${header.layers.length} layer(s) of N = ${header.numTokens}, ` +
        `H = ${header.numHeads}, Hkv = ${header.numKvHeads}, D = ${header.headDim} in ${header.dtype} (${problem})`,
    );
  }

  const { qElements, kvElements } = arraySizes(header);
  let offset = PREAMBLE_BYTES + headerBytes;
  const readArray = (elements: number): Float32Array => {
    let data: Float32Array;
    if (header.dtype === 'f32') {
      data = new Float32Array(elements);
      for (let i = 0; i < elements; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      offset += 4 * elements;
    } else {
      const halves = new Uint16Array(elements);
      for (let i = 0; i < elements; i++) halves[i] = view.getUint16(offset + 2 * i, true);
      data = decode16(halves, 'f16');
      offset += 2 * elements;
    }
    return data;
  };
  const layers = header.layers.map((layer) => ({ layer, q: readArray(qElements), k: readArray(kvElements), v: readArray(kvElements) }));
  return { header, layers };
}
