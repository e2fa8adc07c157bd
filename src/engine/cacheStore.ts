/**
 * Stores for downloaded model files between visits. The browser uses the Cache API. Node tests,
 * which have no Cache API, use MemoryCacheStore.
 */

/** A URL-keyed store of complete, verified responses. */
export interface ModelCacheStore {
  match(url: string): Promise<Response | undefined>;
  /** Stores the response; rejects with the browser's QuotaExceededError when storage is full. */
  put(url: string, response: Response): Promise<void>;
  /** Removes the entry and returns whether there was one. */
  delete(url: string): Promise<boolean>;
  /** URLs of every entry. */
  keys(): Promise<string[]>;
}

/** A named cache of the Cache API (window or worker). */
export class CacheApiStore implements ModelCacheStore {
  private cache: Promise<Cache> | undefined;

  constructor(
    readonly cacheName: string,
    private readonly storage: CacheStorage = globalThis.caches,
  ) {}

  private open(): Promise<Cache> {
    if (!this.storage) return Promise.reject(new Error('The Cache API is not available in this context'));
    this.cache ??= this.storage.open(this.cacheName);
    return this.cache;
  }

  async match(url: string): Promise<Response | undefined> {
    return (await this.open()).match(url);
  }

  async put(url: string, response: Response): Promise<void> {
    await (await this.open()).put(url, response);
  }

  async delete(url: string): Promise<boolean> {
    return (await this.open()).delete(url);
  }

  async keys(): Promise<string[]> {
    const requests = await (await this.open()).keys();
    return requests.map((request) => request.url);
  }
}

/** Entries kept in a Map for the page's lifetime; `quotaBytes` makes put fail as a full disk would. */
export class MemoryCacheStore implements ModelCacheStore {
  private readonly entries = new Map<string, { body: ArrayBuffer; headers: [string, string][]; status: number }>();

  constructor(private readonly quotaBytes = Infinity) {}

  /** Sum of the stored bodies' bytes. */
  get usedBytes(): number {
    let sum = 0;
    for (const entry of this.entries.values()) sum += entry.body.byteLength;
    return sum;
  }

  async match(url: string): Promise<Response | undefined> {
    const entry = this.entries.get(url);
    if (!entry) return undefined;
    // A 404 marker has no body, and the Response constructor rejects a body with status 404 only when it is non-null.
    const body = entry.body.byteLength > 0 || entry.status === 200 ? entry.body.slice(0) : null;
    return new Response(body, { status: entry.status, headers: entry.headers });
  }

  async put(url: string, response: Response): Promise<void> {
    const body = await response.arrayBuffer();
    const previous = this.entries.get(url)?.body.byteLength ?? 0;
    if (this.usedBytes - previous + body.byteLength > this.quotaBytes) {
      throw new DOMException(`The memory cache quota of ${this.quotaBytes} bytes is exceeded`, 'QuotaExceededError');
    }
    this.entries.set(url, { body, headers: [...response.headers.entries()], status: response.status });
  }

  async delete(url: string): Promise<boolean> {
    return this.entries.delete(url);
  }

  async keys(): Promise<string[]> {
    return [...this.entries.keys()];
  }
}

/** Returns whether `error` is the storage-full error of the Cache API (or of MemoryCacheStore). */
export function isQuotaError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}
