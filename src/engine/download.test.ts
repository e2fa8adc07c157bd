import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSafetensors } from '../model/safetensors';
import { MemoryCacheStore } from './cacheStore';
import { downloadFile, safetensorsDeclaredSize, sha256FromEtag } from './download';
import { hubModelSource } from './hub';
import type { DownloadFileProgress } from './hub';

/**
 * A Hugging Face layout server on 127.0.0.1 (/org/model/resolve/main/<file>) whose faults a
 * test switches on: a dropped connection, a Range request with a 200 response or a wrong
 * Content-Range, a truncated body, a wrong Content-Length, a wrong SHA-256 ETag, or a status.
 */
type Fault =
  | 'none'
  | 'drop-once'
  | 'drop-once-ignore-range'
  | 'drop-once-wrong-range'
  | 'truncated'
  | 'short-content-length'
  | 'wrong-sha'
  | 'status'
  | 'status-once';

// 300,007 bytes of data: not a multiple of any chunk size, so the resume point is an odd offset.
const weightData = new Uint8Array(300_007 * 4).map((_, index) => (index * 31 + (index >> 9)) % 251);
const weights = buildSafetensors([
  { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [300_007], data: weightData },
  { name: 'model.norm.weight', dtype: 'F16', shape: [3], data: new Uint8Array(6).fill(60) },
]);
const sha256 = createHash('sha256').update(weights).digest('hex');
const files: Record<string, Uint8Array> = { 'model.safetensors': weights, 'config.json': new TextEncoder().encode('{"a":1}') };

let server: Server;
let baseUrl: string;
let requests: { method: string; url: string; range?: string }[];
let fault: Fault;
let faultStatus: number;
let faultUsed: boolean;
let sendEtag: boolean;

/** Parses `bytes=start-` or `bytes=start-end` (inclusive); undefined for anything else. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!match || Number(match[1]) >= size) return undefined;
  return { start: Number(match[1]), end: match[2] ? Math.min(Number(match[2]) + 1, size) : size };
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  requests.push({ method: request.method ?? '', url: request.url ?? '', range: request.headers.range });
  const match = /^\/org\/model\/resolve\/main\/(.+)$/.exec(request.url ?? '');
  const body = match ? files[match[1]] : undefined;
  if (fault === 'status' || (fault === 'status-once' && !faultUsed)) {
    faultUsed = true;
    response.writeHead(faultStatus).end();
    return;
  }
  if (!body) {
    response.writeHead(404).end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (sendEtag) headers.etag = fault === 'wrong-sha' ? `"${'ab'.repeat(32)}"` : `"${sha256}"`;

  const dropNow = (fault === 'drop-once' || fault === 'drop-once-ignore-range' || fault === 'drop-once-wrong-range') && !faultUsed;
  // The truncating server never honours Range, so every attempt gets the same cut body.
  const range = fault === 'drop-once-ignore-range' || fault === 'truncated' ? undefined : parseRange(request.headers.range, body.byteLength);
  if (range !== undefined) {
    // The wrong-range server claims to continue 100 bytes later than it was asked.
    const claimed = fault === 'drop-once-wrong-range' ? range.start + 100 : range.start;
    headers['content-range'] = `bytes ${claimed}-${range.end - 1}/${body.byteLength}`;
    headers['content-length'] = String(range.end - range.start);
    response.writeHead(206, headers);
    response.end(body.subarray(range.start, range.end));
    return;
  }

  const announced = fault === 'short-content-length' ? body.byteLength - 1000 : body.byteLength;
  headers['content-length'] = String(announced);
  response.writeHead(200, headers);
  if (dropNow || fault === 'truncated') {
    faultUsed = true;
    // Half the file, flushed, then the socket closes without the rest.
    const cut = fault === 'truncated' ? body.byteLength - 1000 : 123_457;
    response.write(body.subarray(0, cut), () => setTimeout(() => response.socket?.destroy(), 20));
    return;
  }
  response.end(body.subarray(0, announced));
}

beforeEach(async () => {
  requests = [];
  fault = 'none';
  faultStatus = 500;
  faultUsed = false;
  sendEtag = false;
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Index of the first differing byte, the shorter length when one is a prefix, or -1 when equal (toEqual is slow on megabytes). */
function firstDifference(got: Uint8Array, expected: Uint8Array): number {
  const length = Math.min(got.byteLength, expected.byteLength);
  for (let i = 0; i < length; i++) if (got[i] !== expected[i]) return i;
  return got.byteLength === expected.byteLength ? -1 : length;
}

const FAST_RETRY = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4 };

function source(store = new MemoryCacheStore()) {
  const log: string[] = [];
  const hub = hubModelSource('org/model', { baseUrl, cacheStore: store, retry: FAST_RETRY });
  return { hub, store, log };
}

function weightRequests() {
  return requests.filter((request) => request.url.endsWith('model.safetensors'));
}

describe('downloadFile', () => {
  it('resumes with Range after a dropped connection', async () => {
    fault = 'drop-once';
    const { hub, store } = source();
    const progress: DownloadFileProgress[] = [];

    const bytes = await hub.fetchBytes('model.safetensors', (event) => progress.push({ ...event }));

    expect(firstDifference(new Uint8Array(bytes), weights)).toBe(-1);
    const gets = weightRequests();
    expect(gets).toHaveLength(2);
    expect(gets[0].range).toBeUndefined();
    // The second request continues at the first byte not received, which the first response flushed in full.
    expect(gets[1].range).toBe('bytes=123457-');
    expect(progress.some((event) => /retry 1 of 3.*resuming at/.test(event.note ?? ''))).toBe(true);
    expect(firstDifference(new Uint8Array(await (await store.match(`${baseUrl}/org/model/resolve/main/model.safetensors`))!.arrayBuffer()), weights)).toBe(-1);
  });

  it('restarts when the server ignores Range', async () => {
    fault = 'drop-once-ignore-range';
    const logs: string[] = [];

    const result = await downloadFile({
      url: `${baseUrl}/org/model/resolve/main/model.safetensors`,
      file: 'model.safetensors',
      modelName: 'org/model',
      retry: FAST_RETRY,
      log: (line) => logs.push(line),
    });

    expect(firstDifference(new Uint8Array(result.bytes), weights)).toBe(-1);
    expect(result.resumes).toBe(0);
    expect(result.retries).toBe(1);
    expect(logs.some((line) => /Restarting model\.safetensors.*responded 200 instead of 206/.test(line))).toBe(true);
  });

  it('restarts when Content-Range starts elsewhere', async () => {
    fault = 'drop-once-wrong-range';
    const logs: string[] = [];

    const result = await downloadFile({
      url: `${baseUrl}/org/model/resolve/main/model.safetensors`,
      file: 'model.safetensors',
      modelName: 'org/model',
      retry: FAST_RETRY,
      log: (line) => logs.push(line),
    });

    expect(firstDifference(new Uint8Array(result.bytes), weights)).toBe(-1);
    expect(logs.some((line) => /Restarting.*Content-Range "bytes 123557-/.test(line))).toBe(true);
    // The third request has no Range header: the download began again at byte 0.
    expect(weightRequests().map((request) => request.range)).toEqual([undefined, 'bytes=123457-', undefined]);
  });

  it('verifies the SHA-256 of the ETag', async () => {
    sendEtag = true;

    const result = await downloadFile({ url: `${baseUrl}/org/model/resolve/main/model.safetensors`, file: 'model.safetensors', modelName: 'org/model' });

    expect(result.sha256).toBe(sha256);
  });

  it('rejects a SHA-256 mismatch and caches nothing', async () => {
    fault = 'wrong-sha';
    sendEtag = true;
    const { hub, store } = source();

    await expect(hub.fetchBytes('model.safetensors')).rejects.toThrow(/model\.safetensors of org\/model is corrupt: its SHA-256 is [0-9a-f]{64}, but the server announced (ab){32}/);
    expect(await store.keys()).toEqual([]);
  });

  it('fails on a body truncated every time, caching nothing', async () => {
    fault = 'truncated';
    const { hub, store } = source();

    await expect(hub.fetchBytes('model.safetensors')).rejects.toThrow(
      new RegExp(`model\\.safetensors of org/model failed after ${weights.byteLength - 1000} of ${weights.byteLength} bytes after 4 attempts`),
    );
    expect(await store.keys()).toEqual([]);
  });

  it('rejects a too-short Content-Length by the safetensors size', async () => {
    fault = 'short-content-length';
    const { hub, store } = source();

    await expect(hub.fetchBytes('model.safetensors')).rejects.toThrow(
      `model.safetensors is ${weights.byteLength - 1000} bytes, but its safetensors header describes ${weights.byteLength - 2} bytes; the file is truncated`,
    );
    expect(await store.keys()).toEqual([]);
  });

  it.each([
    [404, /model\.safetensors was not found in org\/model \(HTTP 404/],
    [401, /Downloading model\.safetensors of org\/model failed with HTTP 401.*access token/],
  ])('fails at once on HTTP %i', async (status, message) => {
    fault = 'status';
    faultStatus = status;
    const { hub, store } = source();

    await expect(hub.fetchBytes('model.safetensors')).rejects.toThrow(message);
    expect(weightRequests()).toHaveLength(1);
    expect(await store.keys()).toEqual([]);
  });

  it('retries HTTP 500, then names the file and status', async () => {
    fault = 'status';
    faultStatus = 500;
    const { hub, store } = source();

    await expect(hub.fetchBytes('model.safetensors')).rejects.toThrow(
      /Downloading model\.safetensors of org\/model failed after 4 attempts: Downloading model\.safetensors of org\/model failed with HTTP 500/,
    );
    expect(weightRequests()).toHaveLength(1 + FAST_RETRY.maxRetries);
    expect(await store.keys()).toEqual([]);
  });

  it('succeeds after one HTTP 503', async () => {
    fault = 'status-once';
    faultStatus = 503;

    const result = await downloadFile({ url: `${baseUrl}/org/model/resolve/main/model.safetensors`, file: 'model.safetensors', modelName: 'org/model', retry: FAST_RETRY, log: () => {} });

    expect(firstDifference(new Uint8Array(result.bytes), weights)).toBe(-1);
    expect(result.retries).toBe(1);
  });

  it('reports a full cache and still returns the bytes', async () => {
    const failed: string[] = [];
    const store = new MemoryCacheStore(1000);
    const hub = hubModelSource('org/model', { baseUrl, cacheStore: store, onCacheError: (file) => failed.push(file) });

    const bytes = await hub.fetchBytes('model.safetensors');

    expect(firstDifference(new Uint8Array(bytes), weights)).toBe(-1);
    expect(failed).toEqual(['model.safetensors']);
    expect(await store.keys()).toEqual([]);
  });

  it('keeps memory-only downloads out of the cache', async () => {
    const store = new MemoryCacheStore();
    const hub = hubModelSource('org/model', { baseUrl, cacheStore: store, cache: false });

    await hub.fetchBytes('model.safetensors');

    expect(await store.keys()).toEqual([]);
  });

  it('reads a header with two Range requests', async () => {
    const hub = hubModelSource('org/model', { baseUrl, cacheStore: new MemoryCacheStore() });

    const prefix = await hub.fetchRange('model.safetensors', 0, 8);

    expect(new Uint8Array(prefix!)).toEqual(weights.subarray(0, 8));
    expect(requests.map((request) => request.range)).toEqual(['bytes=0-7']);
  });
});

describe('integrity helpers', () => {
  it('reads a SHA-256 from an ETag only', () => {
    expect(sha256FromEtag(`"${sha256}"`)).toBe(sha256);
    expect(sha256FromEtag(`W/"${sha256.toUpperCase()}"`)).toBe(sha256);
    // A git blob hash (40 hex digits) is not the file's SHA-256.
    expect(sha256FromEtag('"0123456789abcdef0123456789abcdef01234567"')).toBeUndefined();
    expect(sha256FromEtag(null)).toBeUndefined();
  });

  it('computes the size a safetensors header declares', () => {
    // buildSafetensors pads the last tensor (6 bytes of F16) to 8 bytes, so the header describes 2 bytes less than the file.
    expect(safetensorsDeclaredSize(weights, 'model.safetensors')).toBe(weights.byteLength - 2);
    expect(() => safetensorsDeclaredSize(weights.subarray(0, 20), 'model.safetensors')).toThrow(/header alone ends at byte .*truncated/);
  });
});
