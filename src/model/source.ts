/** Progress of one file's transfer; `total` is undefined when the server sends no length. */
export interface FileProgress {
  file: string;
  loaded: number;
  total?: number;
  fromCache: boolean;
}

/**
 * Where a model's files come from: a Hugging Face style host, the browser's Cache API,
 * local files the user opened, or the file system in Node tests. Paths are relative to
 * the model's root, as in a Hugging Face repository (config.json, model.safetensors, ...).
 */
export interface ModelSource {
  /** Human-readable name of the model, such as a repo id or a folder name. */
  readonly name: string;
  /** Returns whether the file exists at the source. */
  has(path: string): Promise<boolean>;
  /** Returns the file's bytes; throws an Error naming the file when it is missing or the transfer fails. */
  fetchBytes(path: string, onProgress?: (progress: FileProgress) => void, signal?: AbortSignal): Promise<ArrayBuffer>;
}

/** Reads and parses a JSON file of the source, or returns undefined when it is absent. */
export async function fetchJsonIfPresent(source: ModelSource, path: string): Promise<unknown | undefined> {
  if (!(await source.has(path))) return undefined;
  const bytes = await source.fetchBytes(path);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`${source.name}/${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}
