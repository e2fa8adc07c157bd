/**
 * A Hugging Face style file server on 127.0.0.1 (/<repo>/resolve/main/<file>) that honours Range
 * requests and can break the transfer of model.safetensors: drop the connection once halfway, or
 * send a truncated body every time. It records every request with its Range header.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export type WeightFault = 'none' | 'drop-once' | 'truncate';

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  status: number;
}

export interface FaultyHubServer {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Requests for *.safetensors files so far. */
  weightRequests: () => RecordedRequest[];
  setFault: (fault: WeightFault) => void;
  close: () => Promise<void>;
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, range',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  // Without these the page cannot read Content-Range or the length of a cross-origin response.
  'access-control-expose-headers': 'content-length, content-range, etag, accept-ranges',
};

export async function startFaultyHubServer(repoId: string, folder: string, fault: WeightFault): Promise<FaultyHubServer> {
  const requests: RecordedRequest[] = [];
  const prefix = `/${repoId}/resolve/main/`;
  let currentFault = fault;
  let dropped = false;
  const files = new Map<string, Uint8Array>();

  function body(relative: string): Uint8Array | undefined {
    if (!files.has(relative)) {
      try {
        files.set(relative, readFileSync(join(folder, relative)));
      } catch {
        return undefined;
      }
    }
    return files.get(relative);
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '/';
    const record: RecordedRequest = { method: request.method ?? '', path: url, range: request.headers.range, status: 0 };
    requests.push(record);
    const send = (status: number, headers: Record<string, string>, data?: Uint8Array) => {
      record.status = status;
      response.writeHead(status, { ...CORS_HEADERS, 'cache-control': 'no-store', ...headers });
      response.end(request.method === 'HEAD' ? undefined : data);
    };
    if (request.method === 'OPTIONS') return send(204, {});

    const relative = url.startsWith(prefix) ? normalize(decodeURIComponent(url.slice(prefix.length))) : undefined;
    const bytes = relative && !relative.startsWith('..') ? body(relative) : undefined;
    if (!bytes) return send(404, {});
    const isWeights = relative!.endsWith('.safetensors');
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };

    // The truncating server ignores Range, so every attempt ends at the same byte.
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    if (range && !(isWeights && currentFault === 'truncate') && Number(range[1]) < bytes.byteLength) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]) + 1, bytes.byteLength) : bytes.byteLength;
      return send(206, { ...headers, 'content-range': `bytes ${start}-${end - 1}/${bytes.byteLength}`, 'content-length': String(end - start) }, bytes.subarray(start, end));
    }

    const cutAt = isWeights && request.method === 'GET' ? cutPoint(bytes.byteLength) : undefined;
    if (cutAt === undefined) return send(200, { ...headers, 'content-length': String(bytes.byteLength) }, bytes);
    record.status = 200;
    response.writeHead(200, { ...CORS_HEADERS, 'cache-control': 'no-store', ...headers, 'content-length': String(bytes.byteLength) });
    // Flush part of the file, then close the socket: the client sees a network error mid-body.
    response.write(bytes.subarray(0, cutAt), () => setTimeout(() => response.socket?.destroy(), 50));
  }

  function cutPoint(size: number): number | undefined {
    if (currentFault === 'truncate') return size - 4096;
    if (currentFault === 'drop-once' && !dropped) {
      dropped = true;
      return Math.floor(size / 2) + 123;
    }
    return undefined;
  }

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    weightRequests: () => requests.filter((request) => request.path.endsWith('.safetensors') && request.method === 'GET'),
    setFault: (next) => {
      currentFault = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
