/**
 * Model sources over HTTP: Hugging Face style hosts (`${baseUrl}/${repoId}/resolve/${revision}/${path}`)
 * and the app's own bundled test models (`/models/<name>/<path>`). Downloads stream with a progress
 * callback per file and, for hub models, are kept in a named Cache API cache, so a reload reads
 * the weights from the cache without a request.
 */
import type { FileProgress, ModelSource } from '../model/source';

export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';
export const MODEL_CACHE_NAME = 'anchor-chat-models-v1';

/** Header that marks a cached "file not found" answer, so optional files cost no request after the first visit. */
const MISSING_MARKER_HEADER = 'x-anchor-chat-missing';

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
}

/** A model whose files are fetched over HTTP and optionally kept in the Cache API. */
export class HttpModelSource implements ModelSource {
  readonly name: string;
  private readonly options: HttpModelSourceOptions;
  private cache: Promise<Cache | undefined> | undefined;

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
      onProgress?.({ file: path, loaded: bytes.byteLength, total: bytes.byteLength, fromCache: true });
      return bytes;
    }

    const response = await this.request(path, url, 'GET', signal);
    if (!response.ok) throw this.statusError(path, url, response);
    if (isFallbackPage(path, response)) {
      throw new Error(`${path} was not found in ${this.name}: ${url} returned an HTML page instead of the file. Check the model's name and files.`);
    }
    const bytes = await readWithProgress(response, path, onProgress, signal);
    await this.store(
      url,
      new Response(bytes, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) } }),
    );
    return bytes;
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

  private openCache(): Promise<Cache | undefined> {
    const storage = this.options.caches ?? globalThis.caches;
    if (!this.options.cacheName || !storage) return Promise.resolve(undefined);
    this.cache ??= storage.open(this.options.cacheName).catch((error: unknown) => {
      // Private windows and some embedded browsers refuse the Cache API; downloads still work.
      console.warn(`The model cache is unavailable, so files will be downloaded on every load: ${(error as Error).message}`);
      return undefined;
    });
    return this.cache;
  }

  private async cachedResponse(url: string): Promise<Response | undefined> {
    const cache = await this.openCache();
    return cache ? cache.match(url) : undefined;
  }

  private async store(url: string, response: Response): Promise<void> {
    const cache = await this.openCache();
    if (!cache) return;
    try {
      await cache.put(url, response);
    } catch (error) {
      // A full quota only costs a new download next time, so the load continues.
      console.warn(`Could not keep ${url} in the model cache: ${(error as Error).message}`);
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

/** Reads a response body in chunks, reporting progress after each chunk. */
async function readWithProgress(
  response: Response,
  file: string,
  onProgress: ((progress: FileProgress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<ArrayBuffer> {
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader !== null && Number.isFinite(Number(lengthHeader)) ? Number(lengthHeader) : undefined;
  if (!response.body) {
    const bytes = await response.arrayBuffer();
    onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength, fromCache: false });
    return bytes;
  }

  const reader = response.body.getReader();
  // A known length lets the bytes land in one buffer instead of a list of chunks and a copy.
  let buffer = new Uint8Array(total ?? 1 << 20);
  let loaded = 0;
  onProgress?.({ file, loaded: 0, total, fromCache: false });
  for (;;) {
    signal?.throwIfAborted();
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.byteLength > buffer.byteLength) {
      const grown = new Uint8Array(Math.max(buffer.byteLength * 2, loaded + value.byteLength));
      grown.set(buffer.subarray(0, loaded));
      buffer = grown;
    }
    buffer.set(value, loaded);
    loaded += value.byteLength;
    onProgress?.({ file, loaded, total, fromCache: false });
  }
  if (total !== undefined && loaded !== total) {
    throw new Error(`Downloading ${file} stopped after ${loaded} of ${total} bytes. Check the network connection and load the model again.`);
  }
  return buffer.byteLength === loaded ? buffer.buffer : buffer.slice(0, loaded).buffer;
}

export interface HubSourceOptions {
  baseUrl?: string;
  revision?: string;
  accessToken?: string;
  cacheName?: string;
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
    cacheName: options.cacheName ?? MODEL_CACHE_NAME,
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

/** Files the user opened from disk, keyed by their path inside the chosen folder. */
export class LocalFilesModelSource implements ModelSource {
  readonly name: string;
  private readonly files = new Map<string, File>();

  constructor(files: readonly File[]) {
    for (const file of files) {
      // A folder picker gives "folder/sub/file"; the model root is the chosen folder.
      const relative = file.webkitRelativePath ? file.webkitRelativePath.split('/').slice(1).join('/') : file.name;
      this.files.set(relative, file);
    }
    const folder = files[0]?.webkitRelativePath.split('/')[0];
    this.name = folder || 'local files';
  }

  async has(path: string): Promise<boolean> {
    return this.files.has(path);
  }

  async fetchBytes(path: string, onProgress?: (progress: FileProgress) => void): Promise<ArrayBuffer> {
    const file = this.files.get(path);
    if (!file) {
      throw new Error(`${path} is missing from the opened files. Open the model's folder with config.json, the safetensors and the tokenizer files.`);
    }
    const bytes = await file.arrayBuffer();
    onProgress?.({ file: path, loaded: bytes.byteLength, total: bytes.byteLength, fromCache: true });
    return bytes;
  }
}
