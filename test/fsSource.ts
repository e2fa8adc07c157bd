/** A ModelSource over a folder of the local file system, for tests in Node. */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { FileProgress, ModelSource } from '../src/model/source';

export class FileSystemModelSource implements ModelSource {
  readonly name: string;

  constructor(readonly root: string) {
    this.name = basename(root);
  }

  async has(path: string): Promise<boolean> {
    try {
      return (await stat(join(this.root, path))).isFile();
    } catch {
      return false;
    }
  }

  async fetchBytes(path: string, onProgress?: (progress: FileProgress) => void, signal?: AbortSignal): Promise<ArrayBuffer> {
    signal?.throwIfAborted();
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.root, path), { signal });
    } catch (error) {
      throw new Error(`${this.name}/${path} could not be read: ${(error as Error).message}`, { cause: error });
    }
    onProgress?.({ file: path, loaded: bytes.byteLength, total: bytes.byteLength, fromCache: true });
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
}

/** An in-memory ModelSource, for tests that build a model's files by hand. */
export class MemoryModelSource implements ModelSource {
  constructor(
    readonly name: string,
    readonly files: Map<string, Uint8Array>,
  ) {}

  async has(path: string): Promise<boolean> {
    return this.files.has(path);
  }

  async fetchBytes(path: string): Promise<ArrayBuffer> {
    const bytes = this.files.get(path);
    if (!bytes) throw new Error(`${this.name}/${path} not found`);
    return bytes.slice().buffer as ArrayBuffer;
  }
}
