/**
 * One file's HTTP download with the checks a 1 GB weight file needs: resume with a Range
 * request after a dropped connection (only when the server responds 206 with the matching
 * Content-Range, else from byte 0), retries with exponential backoff for network errors and
 * 5xx responses, and integrity checks of the finished bytes against the expected size, the
 * safetensors header's own size and, when the host sends one, the SHA-256 in the ETag.
 * The caller stores the bytes only after downloadFile returns, so a partial or corrupt file
 * never reaches the cache.
 */

export interface DownloadProgress {
  loaded: number;
  /** Undefined while the size is unknown (no Content-Length, or a compressed response). */
  total?: number;
  /** A retry in progress, for the progress line: what failed and when the next attempt starts. */
  note?: string;
}

export interface RetryPolicy {
  /** Attempts after the first one. */
  maxRetries: number;
  /** Wait before the first retry; each later retry waits twice as long as the one before. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 4, baseDelayMs: 1000, maxDelayMs: 16_000 };

export interface DownloadRequest {
  url: string;
  /** Path of the file inside the model, for messages. */
  file: string;
  /** Name of the model (a repo id), for messages. */
  modelName: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  retry?: Partial<RetryPolicy>;
  /** Explains what to do after HTTP 401 or 403. */
  forbiddenHint?: string;
  fetch?: typeof fetch;
  /** Receives one line per retry and restart; console.warn by default. */
  log?: (message: string) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface DownloadResult {
  bytes: ArrayBuffer;
  /** SHA-256 (hex) the host announced and the bytes matched; undefined when the host sent none. */
  sha256?: string;
  /** Requests that continued a partial transfer with a Range header and got 206. */
  resumes: number;
  retries: number;
}

/** The server responded with an error status; `retryable` is true for 5xx, 408 and 429. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly file: string,
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }

  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** The downloaded bytes do not match the size or checksum they must have. */
export class IntegrityError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/** A transfer that ended before its last byte; the download resumes after it. */
class InterruptedTransfer extends Error {}

function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Returns the SHA-256 in an ETag or X-Linked-Etag value, or undefined when the value is not one.
 * The Hugging Face Hub sends the SHA-256 of LFS files there, and a git blob hash (40 hex
 * digits) for small files, which is not a hash of the bytes alone and is ignored.
 */
export function sha256FromEtag(value: string | null): string | undefined {
  if (!value) return undefined;
  const bare = value.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(bare) ? bare : undefined;
}

export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Returns the byte size a safetensors file must have according to its own header: the 8-byte
 * length, the header and the data up to the largest tensor end. Throws IntegrityError when the
 * bytes are too short to contain the header.
 */
export function safetensorsDeclaredSize(bytes: Uint8Array, file: string): number {
  if (bytes.byteLength < 8) throw new IntegrityError(file, `${file} is ${bytes.byteLength} bytes, too short for a safetensors file`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const dataStart = 8 + headerLength;
  if (dataStart > bytes.byteLength) {
    throw new IntegrityError(file, `${file} is ${bytes.byteLength} bytes, but its safetensors header alone ends at byte ${dataStart}; the file is truncated`);
  }
  let header: Record<string, { data_offsets?: unknown }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    throw new IntegrityError(file, `${file} has a safetensors header that is not valid JSON (${(error as Error).message}); the file is corrupt`);
  }
  let dataEnd = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const offsets = entry?.data_offsets;
    if (Array.isArray(offsets) && typeof offsets[1] === 'number') dataEnd = Math.max(dataEnd, offsets[1]);
  }
  return dataStart + dataEnd;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Parses `Content-Range: bytes start-end/total`; total is undefined for `*`. */
function parseContentRange(value: string | null): { start: number; end: number; total?: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

/** Growable byte buffer that keeps what earlier attempts received. */
class ReceivedBytes {
  private buffer = new Uint8Array(0);
  length = 0;

  reserve(size: number): void {
    if (size <= this.buffer.byteLength) return;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  append(chunk: Uint8Array): void {
    if (this.length + chunk.byteLength > this.buffer.byteLength) this.reserve(Math.max(this.buffer.byteLength * 2, this.length + chunk.byteLength, 1 << 16));
    this.buffer.set(chunk, this.length);
    this.length += chunk.byteLength;
  }

  result(): ArrayBuffer {
    return this.buffer.byteLength === this.length ? this.buffer.buffer : this.buffer.slice(0, this.length).buffer;
  }
}

function statusMessage(request: DownloadRequest, response: Response): string {
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  const { file, modelName, url } = request;
  if (response.status === 401 || response.status === 403) {
    return `Downloading ${file} of ${modelName} failed with ${status} (${url}). ${request.forbiddenHint ?? 'The server requires an access token.'}`;
  }
  if (response.status === 404) {
    return `${file} was not found in ${modelName} (${status}, ${url}). Check the repository id, the revision and the file name.`;
  }
  return `Downloading ${file} of ${modelName} failed with ${status} (${url}). Try again later or choose another model.`;
}

/**
 * Downloads one file completely and verifies it. Resumes after dropped connections and retries
 * network errors and 5xx responses with exponential backoff; fails at once on other statuses.
 * Throws HttpStatusError, IntegrityError, or an Error that names the file after the last retry.
 */
export async function downloadFile(request: DownloadRequest): Promise<DownloadResult> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...request.retry };
  const fetchFn = request.fetch ?? globalThis.fetch.bind(globalThis);
  const sleep = request.sleep ?? defaultSleep;
  const log = request.log ?? ((message: string) => console.warn(message));
  const { file, url, signal } = request;

  const received = new ReceivedBytes();
  let total: number | undefined;
  let etag: string | null = null;
  let redirected = false;
  let linkedEtag: string | null = null;
  let linkedSize: number | undefined;
  let retries = 0;
  let resumes = 0;

  for (;;) {
    signal?.throwIfAborted();
    const headers: Record<string, string> = { ...request.headers };
    if (received.length > 0) headers.range = `bytes=${received.length}-`;
    let failure: Error;
    try {
      let response: Response;
      try {
        response = await fetchFn(url, { headers, signal });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new InterruptedTransfer(
          `could not reach ${url} (${(error as Error).message}); check the hub base URL, and that the host allows cross-origin requests (CORS)`,
          { cause: error },
        );
      }
      if (!response.ok) {
        void response.body?.cancel().catch(() => {});
        throw new HttpStatusError(response.status, file, url, statusMessage(request, response));
      }
      if ((response.headers.get('content-type') ?? '').startsWith('text/html') && !/\.html?$/i.test(file)) {
        throw new HttpStatusError(404, file, url, `${file} was not found in ${request.modelName}: ${url} returned an HTML page instead of the file. Check the model's name and files.`);
      }

      const encoded = !['', 'identity'].includes((response.headers.get('content-encoding') ?? '').toLowerCase());
      const lengthHeader = response.headers.get('content-length');
      const contentLength = lengthHeader !== null && /^\d+$/.test(lengthHeader) && !encoded ? Number(lengthHeader) : undefined;
      const responseEtag = response.headers.get('etag');
      redirected ||= response.redirected;
      linkedEtag ??= response.headers.get('x-linked-etag');
      const linkedSizeHeader = response.headers.get('x-linked-size');
      if (linkedSize === undefined && linkedSizeHeader && /^\d+$/.test(linkedSizeHeader)) linkedSize = Number(linkedSizeHeader);

      if (received.length > 0) {
        const range = response.status === 206 ? parseContentRange(response.headers.get('content-range')) : undefined;
        const changed = etag !== null && responseEtag !== null && responseEtag !== etag;
        if (!range || range.start !== received.length || (total !== undefined && range.total !== undefined && range.total !== total) || changed) {
          const why =
            response.status !== 206
              ? `the server responded ${response.status} instead of 206 to the Range request`
              : changed
                ? 'the file changed on the server (another ETag)'
                : `the server sent Content-Range "${response.headers.get('content-range')}" for a request from byte ${received.length}`;
          log(`Restarting ${file} of ${request.modelName} from byte 0: ${why}.`);
          received.length = 0;
          total = undefined;
          if (response.status === 200) {
            // This response is the whole file, so it is read instead of requested again.
            etag = responseEtag;
            total = contentLength;
          } else {
            void response.body?.cancel().catch(() => {});
            throw new InterruptedTransfer(`the response to the Range request did not continue the file (${why})`);
          }
        } else {
          resumes++;
          total ??= range.total;
          log(`Resuming ${file} of ${request.modelName} at byte ${range.start} of ${total ?? 'unknown'}.`);
        }
      } else {
        etag = responseEtag;
        total = contentLength;
      }
      if (total !== undefined) received.reserve(total);

      await readBody(response, received, total, request);
      if (total !== undefined && received.length < total) {
        throw new InterruptedTransfer(`the connection closed after ${received.length} of ${total} bytes`);
      }
      break;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof HttpStatusError && !error.retryable) throw error;
      if (error instanceof IntegrityError) throw error;
      failure = error as Error;
    }

    if (retries >= policy.maxRetries) {
      const progress = total !== undefined ? ` after ${received.length} of ${total} bytes` : '';
      throw new Error(
        `Downloading ${file} of ${request.modelName} failed${progress} after ${retries + 1} attempts: ${failure.message}. ` +
          'Check the network connection and load the model again; the bytes already received are not kept.',
        { cause: failure },
      );
    }
    retries++;
    const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retries - 1));
    const resumeNote = received.length > 0 ? `, resuming at ${formatMiB(received.length)}` : '';
    const note = `retry ${retries} of ${policy.maxRetries} in ${(delay / 1000).toFixed(1)} s${resumeNote} (${failure.message})`;
    log(`Downloading ${file} of ${request.modelName}: ${note}.`);
    request.onProgress?.({ loaded: received.length, total, note });
    await sleep(delay, signal);
  }

  const bytes = received.result();
  verifySize(file, bytes, total, linkedSize);
  // NOTE: a redirect target (a CDN) may put another 64-hex-digit hash in its ETag, so a plain ETag
  // counts only without a redirect. The Hub redirects LFS files, so there only X-Linked-Etag, when
  // the browser can read it, is checked.
  const expectedSha = sha256FromEtag(linkedEtag) ?? (redirected ? undefined : sha256FromEtag(etag));
  if (expectedSha !== undefined) {
    const actual = await sha256Hex(bytes);
    if (actual !== expectedSha) {
      throw new IntegrityError(
        file,
        `${file} of ${request.modelName} is corrupt: its SHA-256 is ${actual}, but the server announced ${expectedSha}. Load the model again.`,
      );
    }
  }
  return { bytes, sha256: expectedSha, resumes, retries };
}

/** Reads the body into `received`, reporting progress after each chunk. */
async function readBody(response: Response, received: ReceivedBytes, total: number | undefined, request: DownloadRequest): Promise<void> {
  const report = () => request.onProgress?.({ loaded: received.length, total });
  report();
  if (!response.body) {
    received.append(new Uint8Array(await response.arrayBuffer()));
    report();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      request.signal?.throwIfAborted();
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new InterruptedTransfer(`the connection was lost after ${received.length} bytes (${(error as Error).message})`, { cause: error });
      }
      if (chunk.done) return;
      if (total !== undefined && received.length + chunk.value.byteLength > total) {
        throw new IntegrityError(request.file, `${request.file} of ${request.modelName}: the server sent more than the ${total} bytes it announced. Load the model again.`);
      }
      received.append(chunk.value);
      report();
    }
  } finally {
    reader.releaseLock();
  }
}

function verifySize(file: string, bytes: ArrayBuffer, total: number | undefined, linkedSize: number | undefined): void {
  if (total !== undefined && bytes.byteLength !== total) {
    throw new IntegrityError(file, `${file} is ${bytes.byteLength} bytes, but the server announced ${total}. Load the model again.`);
  }
  if (linkedSize !== undefined && bytes.byteLength !== linkedSize) {
    throw new IntegrityError(file, `${file} is ${bytes.byteLength} bytes, but X-Linked-Size announced ${linkedSize}. Load the model again.`);
  }
  if (/\.safetensors$/i.test(file)) {
    const declared = safetensorsDeclaredSize(new Uint8Array(bytes), file);
    // Writers may pad the data section to 8 bytes after the last tensor, so up to 7 trailing bytes are allowed.
    if (bytes.byteLength < declared || bytes.byteLength > declared + 7) {
      throw new IntegrityError(
        file,
        `${file} is ${bytes.byteLength} bytes, but its safetensors header describes ${declared} bytes; the file is ${declared > bytes.byteLength ? 'truncated' : 'corrupt'}. Load the model again.`,
      );
    }
  }
}

/**
 * Reads bytes [start, end) of a file with one Range request. Returns undefined, without reading
 * the body, when the server ignores the Range header (status 200), so a caller that only wants a
 * header never downloads a whole weight file by accident.
 */
export async function fetchByteRange(
  request: Pick<DownloadRequest, 'url' | 'file' | 'modelName' | 'headers' | 'signal' | 'fetch' | 'forbiddenHint'>,
  start: number,
  end: number,
): Promise<ArrayBuffer | undefined> {
  const fetchFn = request.fetch ?? globalThis.fetch.bind(globalThis);
  const response = await fetchFn(request.url, { headers: { ...request.headers, range: `bytes=${start}-${end - 1}` }, signal: request.signal });
  if (response.status !== 206) {
    void response.body?.cancel().catch(() => {});
    if (response.ok) return undefined;
    throw new HttpStatusError(response.status, request.file, request.url, statusMessage(request as DownloadRequest, response));
  }
  const bytes = await response.arrayBuffer();
  if (bytes.byteLength !== end - start) {
    throw new IntegrityError(request.file, `${request.file}: the Range request for bytes ${start}-${end - 1} returned ${bytes.byteLength} bytes`);
  }
  return bytes;
}
