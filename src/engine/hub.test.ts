import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileProgress } from '../model/source';
import { buildSafetensors } from '../model/safetensors';
import { bundledModelSource, hubModelSource } from './hub';

/** An in-memory stand-in for the browser's CacheStorage, which Node lacks. */
class MemoryCacheStorage {
  readonly caches = new Map<string, Map<string, Response>>();

  async open(name: string): Promise<Cache> {
    let entries = this.caches.get(name);
    if (!entries) {
      entries = new Map();
      this.caches.set(name, entries);
    }
    const store = entries;
    const cache = {
      match: async (url: string) => store.get(url)?.clone(),
      put: async (url: string, response: Response) => {
        store.set(url, response.clone());
      },
    };
    return cache as unknown as Cache;
  }
}

// A real safetensors file, because downloads of *.safetensors are checked against their header's size.
const weights = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [75_000], data: new Uint8Array(300_000).map((_, index) => (index * 7) % 251) }]);
const files: Record<string, Uint8Array> = {
  'config.json': new TextEncoder().encode('{"model_type":"qwen2"}'),
  'model.safetensors': weights,
};

let server: Server;
let baseUrl: string;
let requests: string[];
let statusOverride: number | undefined;

beforeEach(async () => {
  requests = [];
  statusOverride = undefined;
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (statusOverride !== undefined) {
      response.writeHead(statusOverride).end();
      return;
    }
    if (request.url?.endsWith('/spa-fallback.json')) {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>');
      return;
    }
    const match = /^\/org\/tiny\/resolve\/main\/(.+)$/.exec(request.url ?? '') ?? /^\/models\/tiny\/(.+)$/.exec(request.url ?? '');
    const body = match ? files[match[1]] : undefined;
    if (!body) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-length': String(body.byteLength) });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    // Several writes, so the client sees several chunks and reports progress between them.
    for (let offset = 0; offset < body.byteLength; offset += 65_536) response.write(body.subarray(offset, offset + 65_536));
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('hubModelSource', () => {
  it('downloads a file with progress up to its length', async () => {
    const source = hubModelSource('org/tiny', { baseUrl, caches: new MemoryCacheStorage() as unknown as CacheStorage });
    const progress: FileProgress[] = [];

    const bytes = await source.fetchBytes('model.safetensors', (event) => progress.push({ ...event }));

    expect(new Uint8Array(bytes)).toEqual(weights);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toEqual({ file: 'model.safetensors', loaded: weights.byteLength, total: weights.byteLength, fromCache: false });
    expect(progress.every((event, index) => index === 0 || event.loaded >= progress[index - 1].loaded)).toBe(true);
  });

  it('serves a second load from the cache without a request', async () => {
    const caches = new MemoryCacheStorage() as unknown as CacheStorage;
    await hubModelSource('org/tiny', { baseUrl, caches }).fetchBytes('model.safetensors');
    requests = [];
    const progress: FileProgress[] = [];

    const bytes = await hubModelSource('org/tiny', { baseUrl, caches }).fetchBytes('model.safetensors', (event) => progress.push(event));

    expect(new Uint8Array(bytes)).toEqual(weights);
    expect(requests).toEqual([]);
    expect(progress).toEqual([{ file: 'model.safetensors', loaded: weights.byteLength, total: weights.byteLength, fromCache: true }]);
  });

  it('answers has() for present and missing files and caches both', async () => {
    const caches = new MemoryCacheStorage() as unknown as CacheStorage;
    const source = hubModelSource('org/tiny', { baseUrl, caches });

    expect(await source.has('config.json')).toBe(true);
    expect(await source.has('generation_config.json')).toBe(false);
    // has() alone does not cache a present file, because it did not download it.
    await source.fetchBytes('config.json');
    requests = [];
    expect(await source.has('config.json')).toBe(true);
    expect(await source.has('generation_config.json')).toBe(false);
    expect(requests).toEqual([]);
  });

  it('names the file and the fix on HTTP 401', async () => {
    statusOverride = 401;
    const source = hubModelSource('org/tiny', { baseUrl, caches: new MemoryCacheStorage() as unknown as CacheStorage });

    await expect(source.fetchBytes('model.safetensors')).rejects.toThrow(/model\.safetensors of org\/tiny failed with HTTP 401.*gated or private.*access token.*another model/);
  });

  it('names the file on HTTP 404', async () => {
    const source = hubModelSource('org/tiny', { baseUrl, caches: new MemoryCacheStorage() as unknown as CacheStorage });

    await expect(source.fetchBytes('tokenizer.json')).rejects.toThrow(/tokenizer\.json was not found in org\/tiny \(HTTP 404/);
  });

  it('sends the access token as a bearer header', async () => {
    let authorization: string | null = null;
    const fetchSpy: typeof fetch = async (input, init) => {
      authorization = new Headers(init?.headers).get('authorization');
      return fetch(input, init);
    };
    const source = hubModelSource('org/tiny', { baseUrl, accessToken: 'hf_x', fetch: fetchSpy, caches: new MemoryCacheStorage() as unknown as CacheStorage });

    await source.fetchBytes('config.json');

    expect(authorization).toBe('Bearer hf_x');
  });

  it('rejects a repository id without an owner', () => {
    expect(() => hubModelSource('tiny', { baseUrl })).toThrow(/not a repository id/);
  });

  it('reports an unreachable host with what to check', async () => {
    const source = hubModelSource('org/tiny', {
      baseUrl: 'http://127.0.0.1:1',
      caches: new MemoryCacheStorage() as unknown as CacheStorage,
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });

    await expect(source.fetchBytes('config.json')).rejects.toThrow(/config\.json of org\/tiny failed after 2 attempts.*Check the network connection/);
  });

  it('stops a download when aborted', async () => {
    const source = hubModelSource('org/tiny', { baseUrl, caches: new MemoryCacheStorage() as unknown as CacheStorage });
    const controller = new AbortController();

    const download = source.fetchBytes('model.safetensors', () => controller.abort(), controller.signal);

    await expect(download).rejects.toThrow();
  });
});

describe('bundledModelSource', () => {
  it('treats an HTML fallback page as a missing file', async () => {
    const source = bundledModelSource('tiny', baseUrl);

    expect(await source.has('spa-fallback.json')).toBe(false);
    await expect(source.fetchBytes('spa-fallback.json')).rejects.toThrow(/spa-fallback\.json was not found in tiny: .* returned an HTML page/);
  });

  it('reads /models/<name>/<file> from the app origin', async () => {
    const source = bundledModelSource('tiny', baseUrl);

    const bytes = await source.fetchBytes('config.json');

    expect(new TextDecoder().decode(bytes)).toBe('{"model_type":"qwen2"}');
    expect(requests).toEqual(['GET /models/tiny/config.json']);
  });
});
