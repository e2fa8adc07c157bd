/**
 * A Hugging Face style file server on 127.0.0.1 for the download tests: it serves a folder
 * as /<repo>/resolve/main/<file>, sends CORS headers for the app, and records every request.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface HubServer {
  baseUrl: string;
  /** "METHOD /path" of each request so far, in arrival order. */
  requests: string[];
  close: () => Promise<void>;
}

export interface HubServerOptions {
  /** Slows .safetensors responses to this rate, so a test can watch the progress bar move. */
  weightBytesPerSecond?: number;
  /** Rejects every file request with HTTP 401, as the Hub does for a gated repository without a token. */
  gated?: boolean;
}

/** Writes `path` in 1 MiB pieces at about `bytesPerSecond`. */
function sendThrottled(path: string, response: ServerResponse, bytesPerSecond: number): void {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => {
    stream.pause();
    response.write(chunk, () => setTimeout(() => stream.resume(), (chunk.length / bytesPerSecond) * 1000));
  });
  stream.on('end', () => response.end());
  stream.on('error', () => response.destroy());
}

export async function startHubServer(repoId: string, folder: string, options: HubServerOptions = {}): Promise<HubServer> {
  const requests: string[] = [];
  const prefix = `/${repoId}/resolve/main/`;

  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    requests.push(`${request.method} ${url}`);
    response.setHeader('access-control-allow-origin', '*');
    response.setHeader('access-control-allow-headers', 'authorization');
    response.setHeader('access-control-allow-methods', 'GET, HEAD, OPTIONS');
    if (request.method === 'OPTIONS') {
      response.writeHead(204).end();
      return;
    }

    if (options.gated) {
      response.writeHead(401).end();
      return;
    }
    const relative = url.startsWith(prefix) ? normalize(decodeURIComponent(url.slice(prefix.length))) : undefined;
    if (!relative || relative.startsWith('..')) {
      response.writeHead(404).end();
      return;
    }
    const path = join(folder, relative);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    if (request.method === 'HEAD') response.end();
    else if (options.weightBytesPerSecond && path.endsWith('.safetensors')) sendThrottled(path, response, options.weightBytesPerSecond);
    else createReadStream(path).pipe(response);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
