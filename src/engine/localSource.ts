/**
 * A ModelSource over File objects the user opened ("Open folder" or "Open files"), read with no
 * network at all, and the check that the opened files form a complete model.
 */
import { SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, parseSafetensorsIndex } from '../model/safetensors';
import type { FileProgress, ModelSource } from '../model/source';

/** Files a model needs besides its weights. */
export const REQUIRED_LOCAL_FILES = ['config.json', 'tokenizer.json'] as const;

/**
 * Returns the path of a file inside the model's root. A folder picker gives "folder/sub/file"
 * in webkitRelativePath, with the chosen folder first; a plain multi-file picker gives the name.
 */
function relativePath(file: File): string {
  const relative = file.webkitRelativePath;
  return relative ? relative.split('/').slice(1).join('/') : file.name;
}

/** Files the user opened from disk, keyed by their path inside the chosen folder. */
export class LocalFilesModelSource implements ModelSource {
  readonly name: string;
  private readonly files = new Map<string, File>();

  constructor(files: readonly File[]) {
    for (const file of files) this.files.set(relativePath(file), file);
    const folder = files.find((file) => file.webkitRelativePath)?.webkitRelativePath.split('/')[0];
    this.name = folder || (files.length > 0 ? 'local files' : 'no files');
  }

  /** Paths of the opened files, sorted. */
  get paths(): string[] {
    return [...this.files.keys()].sort();
  }

  async has(path: string): Promise<boolean> {
    return this.files.has(path);
  }

  async fetchBytes(path: string, onProgress?: (progress: FileProgress) => void, signal?: AbortSignal): Promise<ArrayBuffer> {
    signal?.throwIfAborted();
    const file = this.files.get(path);
    if (!file) {
      throw new Error(`${path} is missing from the opened files. Open the model's folder with config.json, the safetensors and the tokenizer files.`);
    }
    const bytes = await file.arrayBuffer();
    onProgress?.({ file: path, loaded: bytes.byteLength, total: bytes.byteLength, fromCache: true });
    return bytes;
  }

  /** Reads bytes [start, end) without reading the rest of the file. */
  async fetchRange(path: string, start: number, end: number): Promise<ArrayBuffer | undefined> {
    const file = this.files.get(path);
    if (!file) throw new Error(`${path} is missing from the opened files.`);
    return file.slice(start, end).arrayBuffer();
  }

  /**
   * Lists what the opened files lack for a complete model: config.json, tokenizer.json, and either
   * model.safetensors or model.safetensors.index.json with every shard it names. Reads the index
   * when there is one; returns an empty list for a complete model.
   */
  async missingFiles(): Promise<string[]> {
    const missing: string[] = REQUIRED_LOCAL_FILES.filter((path) => !this.files.has(path));
    if (this.files.has(SAFETENSORS_INDEX_FILE)) {
      const index = parseSafetensorsIndex(JSON.parse(new TextDecoder().decode(await this.fetchBytes(SAFETENSORS_INDEX_FILE))));
      missing.push(...index.files.filter((shard) => !this.files.has(shard)));
    } else if (!this.files.has(SAFETENSORS_FILE)) {
      missing.push(`${SAFETENSORS_FILE} (or ${SAFETENSORS_INDEX_FILE} with its shards)`);
    }
    return missing;
  }

  /** Throws an Error that lists every missing file and what was opened, when the model is incomplete. */
  async checkComplete(): Promise<void> {
    const missing = await this.missingFiles();
    if (missing.length === 0) return;
    const opened = this.paths;
    throw new Error(
      `The opened files are not a complete model: missing ${missing.join(', ')}. ` +
        `Opened: ${opened.length > 0 ? opened.join(', ') : 'nothing'}. ` +
        "Open the model's folder, or select config.json, the .safetensors files, tokenizer.json and tokenizer_config.json together.",
    );
  }
}
