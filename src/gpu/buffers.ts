/** Element types of tensors on the GPU. bf16 and f16 are stored two per u32, low half first. */
export type DType = 'f32' | 'f16' | 'bf16' | 'u32' | 'i32';

export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, f16: 2, bf16: 2, u32: 4, i32: 4 };

/** STORAGE | COPY_SRC | COPY_DST, written as numbers so the module loads before WebGPU globals exist. */
export const STORAGE_USAGE = 0x80 | 0x04 | 0x08;

/** A dense row-major tensor in one GPU buffer. */
export interface Tensor {
  buffer: GPUBuffer;
  shape: readonly number[];
  dtype: DType;
  label: string;
}

/** A row-major tensor split by rows across several buffers, each within the binding limit. */
export interface RowSplitTensor {
  parts: Tensor[];
  /** First row of each part; parts[i] contains rows rowStarts[i] .. rowStarts[i] + parts[i].shape[0]. */
  rowStarts: number[];
  shape: readonly number[];
  dtype: DType;
  label: string;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** Bytes of a tensor, rounded up to a multiple of 4 as WebGPU buffer sizes must be. */
export function tensorByteLength(shape: readonly number[], dtype: DType): number {
  return Math.ceil((elementCount(shape) * BYTES_PER_ELEMENT[dtype]) / 4) * 4;
}

/**
 * Splits `rows` rows of `rowBytes` bytes into consecutive ranges of at most
 * `maxBindingBytes` each. A row must fit in one binding and be a multiple of 4 bytes,
 * so that each part starts on a whole u32 of packed 16-bit data.
 */
export function planRowSplit(rows: number, rowBytes: number, maxBindingBytes: number): { rowStart: number; rowCount: number }[] {
  if (rowBytes % 4 !== 0) {
    throw new Error(`planRowSplit: a row is ${rowBytes} bytes; split rows must be a multiple of 4 bytes (use an even row length for 16-bit types)`);
  }
  if (rowBytes > maxBindingBytes) {
    throw new Error(`planRowSplit: one row is ${rowBytes} bytes, more than the ${maxBindingBytes}-byte binding limit`);
  }
  const rowsPerPart = Math.floor(maxBindingBytes / rowBytes);
  const ranges: { rowStart: number; rowCount: number }[] = [];
  for (let rowStart = 0; rowStart < rows; rowStart += rowsPerPart) {
    ranges.push({ rowStart, rowCount: Math.min(rowsPerPart, rows - rowStart) });
  }
  return ranges;
}

/**
 * Creates GPU buffers and counts the bytes it has allocated and not yet destroyed,
 * so memory estimates can be checked against what was really allocated.
 */
export class BufferAllocator {
  bytesAllocated = 0;
  peakBytesAllocated = 0;

  constructor(readonly device: GPUDevice) {}

  createBuffer(label: string, byteLength: number, usage: GPUBufferUsageFlags = STORAGE_USAGE): GPUBuffer {
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    if (size > this.device.limits.maxBufferSize) {
      throw new Error(`Buffer "${label}" needs ${size} bytes, more than this GPU's maxBufferSize of ${this.device.limits.maxBufferSize}`);
    }
    const buffer = this.device.createBuffer({ label, size, usage });
    this.bytesAllocated += size;
    this.peakBytesAllocated = Math.max(this.peakBytesAllocated, this.bytesAllocated);
    return buffer;
  }

  destroyBuffer(buffer: GPUBuffer): void {
    this.bytesAllocated -= buffer.size;
    buffer.destroy();
  }

  createTensor(label: string, shape: readonly number[], dtype: DType, usage: GPUBufferUsageFlags = STORAGE_USAGE): Tensor {
    return { buffer: this.createBuffer(label, tensorByteLength(shape, dtype), usage), shape, dtype, label };
  }

  /** Creates a tensor and writes `data` into it; `data` contains the raw bytes of `dtype`. */
  createTensorFrom(label: string, shape: readonly number[], dtype: DType, data: ArrayBufferView): Tensor {
    const expected = elementCount(shape) * BYTES_PER_ELEMENT[dtype];
    if (data.byteLength !== expected) {
      throw new Error(`Tensor "${label}" of shape [${shape.join(', ')}] ${dtype} needs ${expected} bytes, got ${data.byteLength}`);
    }
    const tensor = this.createTensor(label, shape, dtype);
    writeBytes(this.device, tensor.buffer, 0, data);
    return tensor;
  }

  /**
   * Creates a row-major tensor of shape [rows, ...] split by rows so that each part
   * fits in `maxBindingBytes` (the device's maxStorageBufferBindingSize by default).
   * `data`, when given, contains the raw bytes of the whole tensor.
   */
  createRowSplitTensor(
    label: string,
    shape: readonly number[],
    dtype: DType,
    data?: ArrayBufferView,
    maxBindingBytes = this.device.limits.maxStorageBufferBindingSize,
  ): RowSplitTensor {
    const rows = shape[0];
    const rowShape = shape.slice(1);
    const rowBytes = elementCount(rowShape) * BYTES_PER_ELEMENT[dtype];
    const ranges = planRowSplit(rows, rowBytes, maxBindingBytes);
    const bytes = data ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
    if (bytes && bytes.byteLength !== rows * rowBytes) {
      throw new Error(`Tensor "${label}" of shape [${shape.join(', ')}] ${dtype} needs ${rows * rowBytes} bytes, got ${bytes.byteLength}`);
    }
    const parts = ranges.map(({ rowStart, rowCount }, index) => {
      const part = this.createTensor(`${label}[part ${index}]`, [rowCount, ...rowShape], dtype);
      if (bytes) writeBytes(this.device, part.buffer, 0, bytes.subarray(rowStart * rowBytes, (rowStart + rowCount) * rowBytes));
      return part;
    });
    return { parts, rowStarts: ranges.map((range) => range.rowStart), shape, dtype, label };
  }

  destroyTensor(tensor: Tensor | RowSplitTensor): void {
    if ('parts' in tensor) tensor.parts.forEach((part) => this.destroyBuffer(part.buffer));
    else this.destroyBuffer(tensor.buffer);
  }
}

/** Writes bytes at `offset`, padding the tail to a multiple of 4 as writeBuffer requires. */
export function writeBytes(device: GPUDevice, buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
  const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  const whole = bytes.byteLength - (bytes.byteLength % 4);
  if (whole > 0) device.queue.writeBuffer(buffer, offset, bytes, 0, whole);
  if (whole < bytes.byteLength) {
    const tail = new Uint8Array(4);
    tail.set(bytes.subarray(whole));
    device.queue.writeBuffer(buffer, offset + whole, tail);
  }
}

/** Copies `byteLength` bytes from `buffer` (starting at `offset`) to the CPU. */
export async function readBytes(device: GPUDevice, buffer: GPUBuffer, offset = 0, byteLength = buffer.size - offset): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({ label: 'readback', size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const encoder = device.createCommandEncoder({ label: 'readback' });
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0, byteLength);
  staging.unmap();
  staging.destroy();
  return copy;
}

/** Reads an f32 tensor (or the first `count` elements of it). */
export async function readF32(device: GPUDevice, tensor: Tensor | GPUBuffer, count?: number): Promise<Float32Array> {
  const buffer = 'buffer' in tensor ? tensor.buffer : tensor;
  const length = count ?? ('shape' in tensor ? elementCount(tensor.shape) : buffer.size / 4);
  return new Float32Array(await readBytes(device, buffer, 0, length * 4));
}

export async function readU32(device: GPUDevice, tensor: Tensor | GPUBuffer, count?: number): Promise<Uint32Array> {
  const buffer = 'buffer' in tensor ? tensor.buffer : tensor;
  const length = count ?? ('shape' in tensor ? elementCount(tensor.shape) : buffer.size / 4);
  return new Uint32Array(await readBytes(device, buffer, 0, length * 4));
}
