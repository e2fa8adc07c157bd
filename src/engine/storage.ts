/**
 * The browser storage that keeps downloaded models: which models the cache contains and their
 * sizes, deleting one, the origin's usage and quota (navigator.storage.estimate) and the
 * persistent-storage request. The page calls these directly, because the Cache API and
 * navigator.storage are shared by the page and its worker.
 */
import type { ModelCacheStore } from './cacheStore';
import { MISSING_MARKER_HEADER } from './hub';

export interface CachedModelFile {
  url: string;
  /** Path inside the model, such as model.safetensors. */
  file: string;
  bytes: number;
}

export interface CachedModel {
  /** Everything before /resolve/ of the cached URLs: the host and the repository id. */
  key: string;
  /** The repository id, such as Qwen/Qwen2.5-0.5B-Instruct. */
  repoId: string;
  host: string;
  revision: string;
  files: CachedModelFile[];
  bytes: number;
}

export interface StorageFigures {
  /** Bytes this origin uses, all storage kinds together. */
  usage?: number;
  quota?: number;
  /** Whether the browser granted persistent storage; undefined when the API is missing. */
  persisted?: boolean;
}

/** Splits a cached hub URL `${base}/${repo}/resolve/${revision}/${file}`; undefined for other URLs. */
export function parseCachedUrl(url: string): { key: string; host: string; repoId: string; revision: string; file: string } | undefined {
  const match = /^(.*)\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
  if (!match) return undefined;
  const [, base, repoId, revision, file] = match;
  return { key: `${base}/${repoId}/resolve/${revision}`, host: base, repoId, revision: decodeURIComponent(revision), file: decodeURIComponent(file) };
}

/** Lists the cached models with the size of each file, largest model first. */
export async function listCachedModels(store: ModelCacheStore): Promise<CachedModel[]> {
  const models = new Map<string, CachedModel>();
  for (const url of await store.keys()) {
    const parsed = parseCachedUrl(url);
    if (!parsed) continue;
    const response = await store.match(url);
    if (!response) continue;
    let bytes = 0;
    if (!response.headers.has(MISSING_MARKER_HEADER)) {
      const length = response.headers.get('content-length');
      bytes = length !== null && /^\d+$/.test(length) ? Number(length) : (await response.blob()).size;
    }
    let model = models.get(parsed.key);
    if (!model) {
      model = { key: parsed.key, repoId: parsed.repoId, host: parsed.host, revision: parsed.revision, files: [], bytes: 0 };
      models.set(parsed.key, model);
    }
    model.files.push({ url, file: parsed.file, bytes });
    model.bytes += bytes;
  }
  const list = [...models.values()];
  list.forEach((model) => model.files.sort((a, b) => a.file.localeCompare(b.file)));
  return list.sort((a, b) => b.bytes - a.bytes || a.key.localeCompare(b.key));
}

/** Deletes every cached file of the model with this key; returns how many entries went. */
export async function deleteCachedModel(store: ModelCacheStore, key: string): Promise<number> {
  let deleted = 0;
  for (const url of await store.keys()) {
    if (parseCachedUrl(url)?.key === key && (await store.delete(url))) deleted++;
  }
  return deleted;
}

/** Reads the origin's storage usage and quota; fields stay undefined where the browser has no such API. */
export async function storageFigures(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<StorageFigures> {
  if (!storage) return {};
  const figures: StorageFigures = {};
  try {
    const estimate = await storage.estimate();
    figures.usage = estimate.usage;
    figures.quota = estimate.quota;
  } catch (error) {
    console.warn(`navigator.storage.estimate() failed: ${(error as Error).message}`);
  }
  if (typeof storage.persisted === 'function') figures.persisted = await storage.persisted().catch(() => undefined);
  return figures;
}

/** Asks the browser to keep this origin's storage under pressure; returns whether it agreed. */
export async function requestPersistentStorage(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<boolean> {
  if (!storage || typeof storage.persist !== 'function') throw new Error('This browser has no navigator.storage.persist(), so storage cannot be made persistent.');
  return storage.persist();
}

function toMiB(bytes: number | undefined): string {
  return bytes === undefined ? 'unknown' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Builds the message for a cache write that failed on a full quota, with the estimate's figures. */
export function describeQuotaError(file: string, modelName: string, figures: StorageFigures): string {
  const free = figures.usage !== undefined && figures.quota !== undefined ? toMiB(figures.quota - figures.usage) : 'unknown';
  return (
    `${file} of ${modelName} could not be kept in the browser cache because storage is full ` +
    `(used ${toMiB(figures.usage)} of a ${toMiB(figures.quota)} quota, ${free} free). ` +
    'The model still loads from memory, but will download again next time. Delete cached models in the Storage panel, ' +
    'or turn on "Keep downloaded models in memory only".'
  );
}
