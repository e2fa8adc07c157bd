/**
 * Model sources over HTTP: Hugging Face style hosts (`${baseUrl}/${repoId}/resolve/${revision}/${path}`)
 * and the app's own bundled test models (`/models/<name>/<path>`). Downloads stream with a progress
 * callback per file and, for hub models, are kept in a named Cache API cache, so a reload reads
 * the weights from the cache without a request.
 */
import type { FileProgress, ModelSource } from '../model/source';
import { CacheApiStore, isQuotaError, type ModelCacheStore } from './cacheStore';
import { downloadFile, fetchByteRange, type RetryPolicy } from './download';

export { LocalFilesModelSource } from './localSource';

/** FileProgress with the retry line of a download in trouble; the engine forwards it to the page. */
export type DownloadFileProgress = FileProgress & { note?: string };

export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';
export const MODEL_CACHE_NAME = 'anchor-chat-models-v1';

/** Header that marks a cached "file not found" answer, so optional files cost no request after the first visit. */
export const MISSING_MARKER_HEADER = 'x-anchor-chat-missing';

export interface HttpModelSourceOptions {
  name: string;
  /** Maps a path inside the model (config.json, model.safetensors, ...) to its URL. */
  fileUrl: (path: string) => string;
  /** Cache API cache that keeps downloaded files; undefined disables caching. */
  cacheName?: string;
  /** Sent as `Authorization: Bearer <token>` for gated or private repositories. */
  accessToken?: string;
  /** Explains what to do after HTTP 401 or 403. */
  forbiddenHint: string;
  fetch?: typeof fetch;
  caches?: CacheStorage;
  /** Replaces the Cache API cache named by cacheName, as Node tests do. */
  cacheStore?: ModelCacheStore;
  retry?: Partial<RetryPolicy>;
  /** Receives a failed cache write (a full quota, typically); the load goes on with the bytes in memory. */
  onCacheError?: (file: string, error: unknown) => void;
}

/** A model whose files are fetched over HTTP and optionally kept in the Cache API. */
export class HttpModelSource implements ModelSource {
  readonly name: string;
  private readonly options: HttpModelSourceOptions;
  private cache: ModelCacheStore | undefined;
  private cacheDisabled = false;

  constructor(options: HttpModelSourceOptions) {
    this.name = options.name;
    this.options = options;
  }

  async has(path: string): Promise<boolean> {
    const url = this.options.fileUrl(path);
    const cached = await this.cachedResponse(url);
    if (cached) return !cached.headers.has(MISSING_MARKER_HEADER);

    const response = await this.request(path, url, 'HEAD');
    if (response.status === 404 || isFallbackPage(path, response)) {
      await this.store(url, new Response(null, { status: 404, headers: { [MISSING_MARKER_HEADER]: '1' } }));
      return false;
    }
    if (!response.ok) throw this.statusError(path, url, response);
    return true;
  }

  async fetchBytes(path: string, onProgress?: (progress: FileProgress) => void, signal?: AbortSignal): Promise<ArrayBuffer> {
    const url = this.options.fileUrl(path);
    const cached = await this.cachedResponse(url);
    if (cached && !cached.headers.has(MISSING_MARKER_HEADER)) {
      const bytes = await cached.arrayBuffer();
      const stored = Number(cached.headers.get('content-length') ?? bytes.byteLength);
      if (bytes.byteLength === stored) {
        onProgress?.({ file: path, loaded: bytes.byteLength, total: bytes.byteLength, fromCache: true });
        return bytes;
      }
      // An entry whose body lost bytes (an evicted or damaged disk cache) is downloaded again.
      console.warn(`The cached ${path} of ${this.name} is ${bytes.byteLength} bytes instead of ${stored}; downloading it again.`);
      await this.cache?.delete(url).catch(() => false);
    }

    const headers: Record<string, string> = {};
    if (this.options.accessToken) headers.authorization = `Bearer ${this.options.accessToken}`;
    const { bytes } = await downloadFile({
      url,
      file: path,
      modelName: this.name,
      headers,
      signal,
      retry: this.options.retry,
      forbiddenHint: this.options.forbiddenHint,
      fetch: this.options.fetch,
      onProgress: (progress) => onProgress?.({ file: path, loaded: progress.loaded, total: progress.total, fromCache: false, note: progress.note } as DownloadFileProgress),
    });
    // Only a complete and verified file reaches the cache: downloadFile throws on anything else.
    await this.store(
      url,
      new Response(bytes, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) } }),
      path,
    );
    return bytes;
  }

  /**
   * Reads bytes [start, end) of a file with a Range request, from the cache when the file is
   * there. Returns undefined when the server ignores Range, so the caller can fall back.
   */
  async fetchRange(path: string, start: number, end: number, signal?: AbortSignal): Promise<ArrayBuffer | undefined> {
    const url = this.options.fileUrl(path);
    const cached = await this.cachedResponse(url);
    if (cached && !cached.headers.has(MISSING_MARKER_HEADER)) return (await cached.arrayBuffer()).slice(start, end);
    const headers: Record<string, string> = {};
    if (this.options.accessToken) headers.authorization = `Bearer ${this.options.accessToken}`;
    return fetchByteRange({ url, file: path, modelName: this.name, headers, signal, fetch: this.options.fetch, forbiddenHint: this.options.forbiddenHint }, start, end);
  }

  private async request(path: string, url: string, method: 'GET' | 'HEAD', signal?: AbortSignal): Promise<Response> {
    const fetchFn = this.options.fetch ?? globalThis.fetch.bind(globalThis);
    const headers: Record<string, string> = {};
    if (this.options.accessToken) headers.authorization = `Bearer ${this.options.accessToken}`;
    try {
      return await fetchFn(url, { method, headers, signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new Error(
        `Could not download ${path} from ${url}: ${(error as Error).message}. ` +
          'Check the network connection and the hub base URL; the host must allow cross-origin requests (CORS).',
        { cause: error },
      );
    }
  }

  private statusError(path: string, url: string, response: Response): Error {
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status === 401 || response.status === 403) {
      return new Error(`Downloading ${path} of ${this.name} failed with ${status} (${url}). ${this.options.forbiddenHint}`);
    }
    if (response.status === 404) {
      return new Error(`${path} was not found in ${this.name} (${status}, ${url}). Check the repository id, the revision and the file name.`);
    }
    return new Error(`Downloading ${path} of ${this.name} failed with ${status} (${url}). Try again later or choose another model.`);
  }

  private openCache(): ModelCacheStore | undefined {
    if (this.cacheDisabled) return undefined;
    if (this.options.cacheStore) return this.options.cacheStore;
    const storage = this.options.caches ?? globalThis.caches;
    if (!this.options.cacheName || !storage) return undefined;
    this.cache ??= new CacheApiStore(this.options.cacheName, storage);
    return this.cache;
  }

  private async cachedResponse(url: string): Promise<Response | undefined> {
    const cache = this.openCache();
    if (!cache) return undefined;
    try {
      return await cache.match(url);
    } catch (error) {
      // Private windows and some embedded browsers refuse the Cache API; downloads still work.
      console.warn(`The model cache is unavailable, so files will be downloaded on every load: ${(error as Error).message}`);
      this.cacheDisabled = true;
      return undefined;
    }
  }

  private async store(url: string, response: Response, path?: string): Promise<void> {
    const cache = this.openCache();
    if (!cache) return;
    try {
      await cache.put(url, response);
    } catch (error) {
      // A full quota only costs a new download next time, so the load continues with the bytes in memory.
      console.warn(`Could not keep ${url} in the model cache: ${(error as Error).message}`);
      if (path !== undefined && isQuotaError(error)) this.options.onCacheError?.(path, error);
    }
  }
}

/**
 * Returns whether the server sent an HTML page for a model file. Single-page-app servers such as
 * `vite preview` serve index.html with status 200 for unknown paths, which means "not found" here.
 */
function isFallbackPage(path: string, response: Response): boolean {
  return (response.headers.get('content-type') ?? '').startsWith('text/html') && !/\.html?$/i.test(path);
}

export interface HubSourceOptions {
  baseUrl?: string;
  revision?: string;
  accessToken?: string;
  cacheName?: string;
  /** false keeps the downloaded files in memory only, with no Cache API entry. */
  cache?: boolean;
  cacheStore?: ModelCacheStore;
  retry?: Partial<RetryPolicy>;
  onCacheError?: (file: string, error: unknown) => void;
  fetch?: typeof fetch;
  caches?: CacheStorage;
}

/** A repository on a Hugging Face style host, cached in the Cache API. */
export function hubModelSource(repoId: string, options: HubSourceOptions = {}): HttpModelSource {
  const baseUrl = (options.baseUrl ?? DEFAULT_HUB_BASE_URL).replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  if (!/^[\w.-]+\/[\w.-]+$/.test(repoId)) {
    throw new Error(`'${repoId}' is not a repository id. Write it as owner/name, for example Qwen/Qwen2.5-0.5B-Instruct.`);
  }
  return new HttpModelSource({
    name: repoId,
    fileUrl: (path) => `${baseUrl}/${repoId}/resolve/${encodeURIComponent(revision)}/${path}`,
    cacheName: options.cache === false ? undefined : (options.cacheName ?? MODEL_CACHE_NAME),
    cacheStore: options.cache === false ? undefined : options.cacheStore,
    retry: options.retry,
    onCacheError: options.onCacheError,
    accessToken: options.accessToken,
    forbiddenHint:
      `${repoId} is gated or private. Accept its license on the model page and enter a Hugging Face access token, ` +
      'or choose another model.',
    fetch: options.fetch,
    caches: options.caches,
  });
}

/**
 * A random-weight test model that the app serves under `${origin}/models/<name>/`. It is not
 * cached, because the generator rewrites these files and the server is local anyway.
 */
export function bundledModelSource(name: string, origin: string, fetchFn?: typeof fetch): HttpModelSource {
  const base = `${origin.replace(/\/+$/, '')}/models/${encodeURIComponent(name)}`;
  return new HttpModelSource({
    name,
    fileUrl: (path) => `${base}/${path}`,
    forbiddenHint: 'The app server refused the file; check that it serves the public/ folder.',
    fetch: fetchFn,
  });
}
