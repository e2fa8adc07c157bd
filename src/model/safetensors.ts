/**
 * Parser for the safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping tensor names to { dtype, shape, data_offsets } (offsets relative to the end of the
 * header), an optional "__metadata__" string map, then the raw little-endian tensor data.
 */
import { elementCount } from '../gpu/buffers';

/** Storage dtypes this app can upload; the rest of the format's dtypes are rejected by name. */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16';

const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };

/** Every dtype the format defines, so an error can tell an unsupported one from a misspelt one. */
const KNOWN_DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

/** The header length is read as 64 bits; more than this is a corrupt file, not a real header. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  file: string;
  /** Absolute byte offset of the data section: 8 + header length. */
  dataStart: number;
  tensors: Map<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
}

function fail(file: string, message: string): never {
  throw new Error(`${file}: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates the header of a safetensors file of `fileSize` bytes whose first
 * bytes are `bytes` (the whole file, or at least 8 + header length bytes). Checks every
 * tensor's dtype, shape and byte range: inside the file, equal to shape × dtype size, and
 * not overlapping another tensor. Throws an Error naming the file and the tensor.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, file: string, fileSize = bytes.byteLength): SafetensorsHeader {
  if (bytes.byteLength < 8) fail(file, `file is ${bytes.byteLength} bytes, too short for the 8-byte safetensors header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES) fail(file, `header length ${headerLength} is larger than ${MAX_HEADER_BYTES} bytes; the file is not a valid safetensors file`);
  const dataStart = 8 + headerLength;
  if (dataStart > fileSize) fail(file, `header length ${headerLength} runs past the end of the ${fileSize}-byte file; the file is truncated`);
  if (dataStart > bytes.byteLength) fail(file, `only ${bytes.byteLength} bytes were given, but the header ends at byte ${dataStart}`);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    fail(file, `header is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(header)) fail(file, 'header must be a JSON object');

  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, SafetensorsTensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, file);
      continue;
    }
    tensors.set(name, parseTensorEntry(name, entry, file, dataSize));
  }
  checkNoOverlap(tensors, file);
  return { file, dataStart, tensors, metadata };
}

function parseMetadata(entry: unknown, file: string): Record<string, string> {
  if (!isObject(entry)) fail(file, '"__metadata__" must be an object of strings');
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') fail(file, `"__metadata__" entry "${key}" must be a string, got ${JSON.stringify(value)}`);
  }
  return entry as Record<string, string>;
}

function parseTensorEntry(name: string, entry: unknown, file: string, dataSize: number): SafetensorsTensorInfo {
  const where = `tensor "${name}"`;
  if (!isObject(entry)) fail(file, `${where} must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string' || !KNOWN_DTYPES.includes(dtype)) {
    fail(file, `${where} has unknown dtype ${JSON.stringify(dtype)}; safetensors dtypes are ${KNOWN_DTYPES.join(', ')}`);
  }
  if (!(dtype in DTYPE_BYTES)) fail(file, `${where} has dtype ${dtype}, which is not supported; supported dtypes are F32, F16 and BF16`);
  if (!Array.isArray(shape) || !shape.every((size) => Number.isInteger(size) && size >= 0)) {
    fail(file, `${where} has invalid shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => Number.isInteger(offset) && offset >= 0)) {
    fail(file, `${where} has invalid data_offsets ${JSON.stringify(offsets)}; expected [begin, end] byte offsets`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(file, `${where} has data_offsets [${begin}, ${end}] with end before begin`);
  if (end > dataSize) fail(file, `${where} has data_offsets [${begin}, ${end}] past the end of the ${dataSize}-byte data section; the file is truncated or corrupt`);
  const typed = dtype as SafetensorsDType;
  const expectedBytes = elementCount(shape) * DTYPE_BYTES[typed];
  if (end - begin !== expectedBytes) {
    fail(file, `${where} of shape [${shape.join(', ')}] ${dtype} needs ${expectedBytes} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { name, dtype: typed, shape: shape as number[], dataOffsets: [begin, end] };
}

function checkNoOverlap(tensors: Map<string, SafetensorsTensorInfo>, file: string): void {
  const sorted = [...tensors.values()].filter((info) => info.dataOffsets[1] > info.dataOffsets[0]).sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    const current = sorted[i];
    if (current.dataOffsets[0] < previous.dataOffsets[1]) {
      fail(
        file,
        `tensor "${current.name}" at [${current.dataOffsets.join(', ')}] overlaps tensor "${previous.name}" at [${previous.dataOffsets.join(', ')}]`,
      );
    }
  }
}

/** The raw bytes of one tensor, a view into `fileBytes` (no copy). */
export function tensorBytes(header: SafetensorsHeader, fileBytes: Uint8Array, name: string): Uint8Array {
  const info = header.tensors.get(name);
  if (!info) throw new Error(`${header.file}: tensor "${name}" not found`);
  return fileBytes.subarray(header.dataStart + info.dataOffsets[0], header.dataStart + info.dataOffsets[1]);
}

/** Where each tensor of a sharded model lives, from model.safetensors.index.json. */
export interface SafetensorsIndex {
  /** Shard file names in first-use order. */
  files: string[];
  weightMap: Map<string, string>;
}

export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/** Parses model.safetensors.index.json; shard names must be plain relative file names. */
export function parseSafetensorsIndex(json: unknown, file = SAFETENSORS_INDEX_FILE): SafetensorsIndex {
  if (!isObject(json) || !isObject(json.weight_map)) fail(file, 'must be an object with a "weight_map" object');
  const weightMap = new Map<string, string>();
  const files: string[] = [];
  for (const [name, shard] of Object.entries(json.weight_map)) {
    if (typeof shard !== 'string' || shard.length === 0 || shard.includes('..') || shard.startsWith('/')) {
      fail(file, `weight_map entry "${name}" must name a shard file in the same folder, got ${JSON.stringify(shard)}`);
    }
    weightMap.set(name, shard);
    if (!files.includes(shard)) files.push(shard);
  }
  if (files.length === 0) fail(file, '"weight_map" is empty');
  return { files, weightMap };
}

/** Bytes per element of a safetensors dtype. */
export function dtypeBytes(dtype: SafetensorsDType): number {
  return DTYPE_BYTES[dtype];
}

/** Builds a safetensors file; tensor data is placed in order, each 8-byte aligned. Used by the tiny-model generator and tests. */
export function buildSafetensors(
  tensors: { name: string; dtype: SafetensorsDType; shape: number[]; data: Uint8Array }[],
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const placed: { data: Uint8Array; offset: number }[] = [];
  for (const tensor of tensors) {
    const expected = elementCount(tensor.shape) * DTYPE_BYTES[tensor.dtype];
    if (tensor.data.byteLength !== expected) {
      throw new Error(`buildSafetensors: tensor "${tensor.name}" of shape [${tensor.shape.join(', ')}] ${tensor.dtype} needs ${expected} bytes, got ${tensor.data.byteLength}`);
    }
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + expected] };
    placed.push({ data: tensor.data, offset });
    offset += Math.ceil(expected / 8) * 8;
  }
  // The header is padded with spaces so the data section starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  const dataStart = 8 + headerBytes.byteLength;
  for (const { data, offset: at } of placed) out.set(data, dataStart + at);
  return out;
}
