import net from 'node:net';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Writable } from 'node:stream';
import tls from 'node:tls';

/**
 * A lean HTTP/1.1 GET for model files. Node's http module hands every 64 KiB read to JavaScript as a
 * fresh Buffer through the stream machinery, which on loopback costs more CPU than the bytes
 * themselves (bench/download.ts: 0.42× curl). Here, once the body is being written to a sink, the
 * socket reads straight into 2 MiB blocks of shared memory (`onread` with a buffer function): each
 * piece is shown to the caller once where it landed (hashing, size checks, progress), and a full
 * block goes to the sink as one write, with no copy in between (file-sink.ts hands it to its writer
 * thread as it is). At most four blocks wait for the disk; then the socket pauses. Four of 2 MiB
 * measured faster than eight of 512 KiB or three of 4 MiB (fewer hand-offs, a working set that stays
 * in cache). One request per connection (`Connection: close`), identity or chunked bodies, plain or
 * TLS. Used only by the hub client; everything else keeps node:http.
 */

export interface GetOptions {
  signal?: AbortSignal;
  /** Inactivity limit in ms before the request fails with ETIMEDOUT. */
  timeoutMs?: number;
  /** Extra trusted certificates (PEM) besides the system's, e.g. a test hub's self-signed one. */
  ca?: string;
}

export interface PipeOptions {
  /** Sees every piece of the body as it arrives; the memory is reused after it returns. Throw to stop. */
  onData?: (piece: Buffer) => void;
  /** Receives the body in blocks of up to BLOCK_BYTES, one `write` each. Not ended here: the caller ends it. */
  sink?: Writable;
}

/** What went wrong on the wire; `code` is a Node-style error code the caller can classify. */
export class HttpGetError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Where the head, and bodies read without a sink, are read into. */
const READ_BUFFER_BYTES = 64 * 1024;
export const BLOCK_BYTES = 2 * 1024 * 1024;
export const BLOCKS = 4;
const MAX_HEAD_BYTES = 64 * 1024;

type BodyMode = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' };

export class HttpGetResponse {
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  private readonly state: ConnectionState;

  constructor(
    readonly statusCode: number,
    headers: Record<string, string>,
    state: ConnectionState,
  ) {
    this.headers = headers;
    this.state = state;
  }

  header(name: string): string | null {
    return this.headers[name.toLowerCase()] ?? null;
  }

  /** Closes the connection without reading (or without finishing) the body. */
  destroy(): void {
    this.state.close();
  }

  /**
   * Reads the whole body. Resolves with its length once every block is written to `sink`. On a
   * dropped connection or a `sink` error it still hands the blocks received so far to `sink` (so
   * a resume keeps them), then rejects.
   */
  pipe(options: PipeOptions = {}): Promise<number> {
    return this.state.pipe(options);
  }

  /** The body as text, refusing answers over `limit` bytes. */
  async text(limit: number): Promise<string> {
    const pieces: Buffer[] = [];
    let total = 0;
    await this.pipe({
      onData: (piece) => {
        total += piece.length;
        if (total > limit) throw new HttpGetError(`the answer is larger than ${limit} bytes`, 'ERR_TOO_LARGE');
        pieces.push(Buffer.from(piece));
      },
    });
    return Buffer.concat(pieces).toString('utf8');
  }
}

/** Sends one GET and resolves when the status line and headers have arrived. */
export function httpGet(url: URL, headers: OutgoingHttpHeaders, options: GetOptions = {}): Promise<HttpGetResponse> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new HttpGetError(`unsupported protocol ${url.protocol}`, 'ERR_INVALID_PROTOCOL'));
      return;
    }
    let request: string;
    try {
      request = requestHead(url, headers);
    } catch (error) {
      reject(error);
      return;
    }
    const state = new ConnectionState(url, request, options, resolve, reject);
    state.start();
  });
}

function requestHead(url: URL, headers: OutgoingHttpHeaders): string {
  const lines = [`GET ${url.pathname || '/'}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name_ = name.toLowerCase();
    if (name_ === 'host' || name_ === 'connection' || name_ === 'content-length' || name_ === 'transfer-encoding') continue;
    for (const v of Array.isArray(value) ? value : [String(value)]) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(v)) {
        throw new HttpGetError(`invalid request header ${JSON.stringify(name)}`, 'ERR_INVALID_HEADER');
      }
      lines.push(`${name}: ${v}`);
    }
  }
  lines.push('Connection: close', '', '');
  return lines.join('\r\n');
}

/** Parses a response head (status line + headers, without the blank line). */
export function parseHead(head: string): { statusCode: number; headers: Record<string, string> } {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!status) throw new HttpGetError(`not an HTTP/1.1 answer (${JSON.stringify((lines[0] ?? '').slice(0, 80))})`, 'ERR_BAD_RESPONSE');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpGetError('a malformed header line in the answer', 'ERR_BAD_RESPONSE');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusCode: Number(status[1]), headers };
}

function bodyMode(statusCode: number, headers: Record<string, string>): BodyMode {
  if (statusCode === 204 || statusCode === 304) return { kind: 'length', remaining: 0 };
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    if (/(^|,)\s*chunked\s*$/i.test(te)) return { kind: 'chunked' };
    return { kind: 'close' };
  }
  const cl = headers['content-length'];
  if (cl !== undefined) {
    // Repeated identical values are allowed ("10, 10"); differing ones are not.
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const only = [...values][0] ?? '';
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw new HttpGetError(`an invalid Content-Length (${cl})`, 'ERR_BAD_RESPONSE');
    return { kind: 'length', remaining: Number(only) };
  }
  return { kind: 'close' };
}

/** The decoder for `Transfer-Encoding: chunked`; calls `emit` with the payload pieces. */
export class ChunkedDecoder {
  private phase: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  private remaining = 0;

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Feeds raw bytes; returns how many were consumed (less than all only once done). */
  feed(bytes: Buffer, emit: (piece: Buffer) => void): number {
    let i = 0;
    while (i < bytes.length && this.phase !== 'done') {
      if (this.phase === 'data') {
        const n = Math.min(this.remaining, bytes.length - i);
        emit(bytes.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.phase = 'data-end';
        continue;
      }
      const nl = bytes.indexOf(0x0a, i);
      const end = nl === -1 ? bytes.length : nl;
      this.line += bytes.toString('latin1', i, end);
      if (this.line.length > 4096) throw new HttpGetError('a malformed chunked answer (line too long)', 'ERR_BAD_RESPONSE');
      i = nl === -1 ? bytes.length : nl + 1;
      if (nl === -1) break;
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      if (this.phase === 'size') {
        const size = /^([0-9a-fA-F]{1,12})\s*(;.*)?$/.exec(line);
        if (!size) throw new HttpGetError('a malformed chunked answer (chunk size)', 'ERR_BAD_RESPONSE');
        this.remaining = parseInt(size[1]!, 16);
        this.phase = this.remaining === 0 ? 'trailer' : 'data';
      } else if (this.phase === 'data-end') {
        if (line !== '') throw new HttpGetError('a malformed chunked answer (chunk end)', 'ERR_BAD_RESPONSE');
        this.phase = 'size';
      } else if (line === '') {
        this.phase = 'done';
      }
    }
    return i;
  }
}

class ConnectionState {
  private socket: net.Socket | null = null;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private head: Buffer = Buffer.alloc(0);
  private responded = false;
  private mode: BodyMode = { kind: 'close' };
  private chunked: ChunkedDecoder | null = null;
  /** Body bytes that arrived with the head, before `pipe` was called. */
  private early: Buffer | null = null;
  private piping: PipeOptions | null = null;
  private settle: { resolve: (n: number) => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = null;
  private sinkFailed = false;
  private socketGone = false;
  private finished = false;
  private received = 0;
  // The block being filled, free blocks, writes at the disk, and whether the socket waits for a block.
  private block: Buffer | null = null;
  private filled = 0;
  private readonly free: Buffer[] = [];
  private inFlight = 0;
  private waitingForBlock = false;
  private onAbort: (() => void) | null = null;

  constructor(
    private readonly url: URL,
    private readonly request: string,
    private readonly options: GetOptions,
    private readonly resolveHead: (response: HttpGetResponse) => void,
    private readonly rejectHead: (error: unknown) => void,
  ) {}

  start(): void {
    const { signal } = this.options;
    if (signal?.aborted) {
      this.rejectHead(abortError());
      return;
    }
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const secure = this.url.protocol === 'https:';
    const port = Number(this.url.port) || (secure ? 443 : 80);
    // Node reads into whatever `buffer()` returned after the previous read (or at connect).
    const onread = { buffer: () => this.readTarget(), callback: (n: number, buf: Uint8Array) => this.onRead(n, buf) };
    // tls.connect takes `onread` too (documented; missing from @types/node), so say so in the type.
    const tlsOptions: tls.ConnectionOptions & Pick<net.TcpSocketConnectOpts, 'onread'> = {
      host,
      port,
      servername: net.isIP(host) ? undefined : host,
      ALPNProtocols: ['http/1.1'],
      onread,
      ...(this.options.ca ? { ca: [...tls.rootCertificates, this.options.ca] } : {}),
    };
    const socket = secure
      ? tls.connect(tlsOptions)
      : net.connect({ host, port, onread });
    this.socket = socket;
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(this.request));
    socket.setTimeout(this.options.timeoutMs ?? 60_000, () => socket.destroy(new HttpGetError('the server stopped answering', 'ETIMEDOUT')));
    socket.on('error', (error) => {
      this.failure ??= error;
      this.update();
    });
    const gone = (): void => {
      this.socketGone = true;
      this.update();
    };
    socket.on('end', gone);
    socket.on('close', gone);
    if (signal) {
      this.onAbort = () => socket.destroy(abortError());
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  close(): void {
    this.finished = true;
    this.cleanup();
  }

  pipe(options: PipeOptions): Promise<number> {
    if (this.piping) return Promise.reject(new Error('the body is already being read'));
    this.piping = options;
    return new Promise<number>((resolve, reject) => {
      this.settle = { resolve, reject };
      const early = this.early;
      this.early = null;
      const goOn = early ? this.consume(early) : true;
      this.update();
      if (goOn && this.settle) this.socket?.resume();
    });
  }

  /**
   * Where the next read lands: the free end of the block being filled while a body goes to a sink,
   * else the small read buffer. Node may keep using an older answer (a read after a pause), so
   * `deliver` copies whatever did not land in place; a block is never handed to the sink while the
   * socket may still read into it, because blocks are only written from `deliver` (before Node asks
   * here again) or once the socket has stopped for good.
   */
  private readTarget(): Buffer {
    if (this.responded && this.piping?.sink && this.block && !this.finished && this.failure === null) return this.block.subarray(this.filled);
    return this.readBuffer;
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    const bytes = Buffer.from(buf.buffer, buf.byteOffset, n);
    if (!this.responded) return this.readHead(bytes);
    if (!this.piping) {
      // Bytes before pipe() (the socket is paused then, so only what one read brought).
      this.early = this.early ? Buffer.concat([this.early, bytes]) : Buffer.from(bytes);
      return false;
    }
    const goOn = this.consume(bytes);
    this.update();
    return goOn;
  }

  private readHead(bytes: Buffer): boolean {
    this.head = Buffer.concat([this.head, bytes]);
    for (;;) {
      const end = this.head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (this.head.length > MAX_HEAD_BYTES) this.socket?.destroy(new HttpGetError("the answer's headers are too large", 'ERR_BAD_RESPONSE'));
        return true;
      }
      let parsed: ReturnType<typeof parseHead>;
      try {
        parsed = parseHead(this.head.toString('latin1', 0, end));
        this.mode = bodyMode(parsed.statusCode, parsed.headers);
      } catch (error) {
        this.socket?.destroy(error instanceof Error ? error : new Error(String(error)));
        return false;
      }
      const rest = this.head.subarray(end + 4);
      if (parsed.statusCode >= 100 && parsed.statusCode < 200) {
        // 100 Continue / 103 Early Hints: the real answer follows.
        this.head = Buffer.from(rest);
        continue;
      }
      this.responded = true;
      this.head = Buffer.alloc(0);
      if (this.mode.kind === 'chunked') this.chunked = new ChunkedDecoder();
      if (rest.length > 0) this.early = Buffer.from(rest);
      this.resolveHead(new HttpGetResponse(parsed.statusCode, parsed.headers, this));
      // Read on only once the caller asks for the body.
      return false;
    }
  }

  /** Takes body bytes off the wire; returns false to pause the socket. */
  private consume(bytes: Buffer): boolean {
    if (this.failure !== null || this.finished) return false;
    try {
      if (this.mode.kind === 'length') {
        const n = Math.min(bytes.length, this.mode.remaining);
        this.deliver(bytes.subarray(0, n));
        this.mode.remaining -= n;
        if (this.mode.remaining === 0) this.finished = true;
      } else if (this.chunked) {
        this.chunked.feed(bytes, (piece) => this.deliver(piece));
        if (this.chunked.done) this.finished = true;
      } else {
        this.deliver(bytes);
      }
    } catch (error) {
      this.failure = error;
      this.socket?.destroy();
      return false;
    }
    if (this.finished) return false;
    if (this.block === null && this.piping?.sink) {
      this.block = this.nextBlock();
      if (this.block === null) {
        // Every block is at the disk: stop reading until one comes back.
        this.waitingForBlock = true;
        return false;
      }
    }
    return true;
  }

  private deliver(piece: Buffer): void {
    if (piece.length === 0) return;
    this.received += piece.length;
    this.piping?.onData?.(piece);
    if (!this.piping?.sink) return;
    // Usually the piece was read straight into the block, right where it belongs. A piece elsewhere
    // in the block (behind chunk framing) moves down; one from the read buffer is copied in, across
    // blocks if need be. A block is missing only when every block is at the disk and bytes came
    // anyway (what was read before the socket paused); then one more is made.
    let from = 0;
    while (from < piece.length) {
      this.block ??= this.nextBlock() ?? newBlock();
      const block = this.block;
      const inPlace = piece.buffer === block.buffer && piece.byteOffset + from === block.byteOffset + this.filled;
      const n = inPlace ? piece.length - from : piece.copy(block, this.filled, from);
      this.filled += n;
      from += n;
      if (this.filled === BLOCK_BYTES) this.flushBlock();
    }
  }

  private flushBlock(): void {
    const block = this.block;
    const sink = this.piping?.sink;
    if (!block || !sink || this.filled === 0 || this.sinkFailed) return;
    const length = this.filled;
    this.inFlight++;
    sink.write(block.subarray(0, length), (error) => {
      this.inFlight--;
      if (error) {
        this.sinkFailed = true;
        this.failure ??= error;
        this.socket?.destroy();
      } else {
        this.free.push(block);
      }
      if (this.waitingForBlock && this.block === null) {
        this.block = this.free.pop() ?? null;
        this.filled = 0;
        if (this.block && this.failure === null) {
          this.waitingForBlock = false;
          this.socket?.resume();
        }
      }
      this.update();
    });
    this.filled = 0;
    this.block = this.nextBlock();
  }

  private nextBlock(): Buffer | null {
    return this.free.pop() ?? (this.inFlight + this.free.length < BLOCKS ? newBlock() : null);
  }

  /** Settles the head or the body promise once there is nothing more to wait for. */
  private update(): void {
    if (!this.responded) {
      if (this.failure !== null || this.socketGone) {
        this.cleanup();
        this.rejectHead(this.failure ?? new HttpGetError('the connection closed before an answer arrived', 'ECONNRESET'));
      }
      return;
    }
    if (!this.settle) return;
    if (!this.finished && this.failure === null && !this.socketGone) return;
    // A body that runs to the end of the connection is complete when the connection ends cleanly.
    if (!this.finished && this.failure === null && this.mode.kind === 'close') this.finished = true;
    // Whatever arrived goes to the file before we report, so a resume can use it.
    if (this.filled > 0) this.flushBlock();
    if (this.inFlight > 0) return;
    this.cleanup();
    const { resolve, reject } = this.settle;
    this.settle = null;
    if (this.failure !== null) reject(this.failure);
    else if (this.finished) resolve(this.received);
    else reject(new HttpGetError(`the connection ended after ${this.received} bytes of the answer`, 'ECONNRESET'));
  }

  private cleanup(): void {
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = null;
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
  }
}

/** Blocks live in shared memory, so a sink can have another thread write them without a copy (file-sink.ts). */
function newBlock(): Buffer {
  return Buffer.from(new SharedArrayBuffer(BLOCK_BYTES));
}

function abortError(): Error {
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}
