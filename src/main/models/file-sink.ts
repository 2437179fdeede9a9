import fs from 'node:fs';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';

/**
 * Where a download's bytes go to disk: a Writable whose writes happen on one writer thread, in
 * pieces of 64 KiB.
 *
 * Why a thread: the event loop hashes every byte as it arrives; handing each block to libuv's
 * thread pool works, but each further piece would be another round trip through the event loop.
 * The writer thread writes a whole block with synchronous calls and answers once.
 *
 * Why 64 KiB pieces: the kernel sizes the page-cache folios of a write by its length. Writes of
 * 1 MiB and more (512 KiB, at times) get folios of that order, taken from the large free blocks
 * that a VM with free-page reporting (such as WSL2 or Firecracker) has handed back to its host, and
 * filling those costs up to eight times more (bench/README.md: 210 MB in 1 MiB writes took 300 ms,
 * in 128 KiB writes 40 ms). curl writes 4–16 KiB and never pays it; 64 KiB does not either, with a
 * fraction of the system calls.
 *
 * Blocks backed by a SharedArrayBuffer (httpGet's are) reach the thread without a copy; anything
 * else is copied into shared memory first.
 */

export const WRITE_PIECE_BYTES = 64 * 1024;

interface WriteRequest {
  id: number;
  fd: number;
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

interface WriteReply {
  id: number;
  error: { code?: string; message: string } | null;
}

// Plain CommonJS so it needs no bundling: the desktop build runs it as it is.
const WRITER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', (m) => {
  const view = Buffer.from(m.buffer, m.offset, m.length);
  let error = null;
  try {
    for (let done = 0; done < view.length; ) done += fs.writeSync(m.fd, view, done, Math.min(${WRITE_PIECE_BYTES}, view.length - done));
  } catch (e) {
    error = { code: e && e.code, message: String(e && e.message || e) };
  }
  parentPort.postMessage({ id: m.id, error });
});
`;

/**
 * The one writer thread, started on first use. It keeps the process alive only while a write is
 * at it (a command-line pull that waits for its last block must not exit early), not while idle.
 */
class WriterThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: WriteReply) => void>();

  write(fd: number, buffer: SharedArrayBuffer, offset: number, length: number): Promise<WriteReply['error']> {
    let worker: Worker;
    try {
      worker = this.start();
    } catch (error) {
      // No thread could be started (out of memory, a locked-down runtime): this write fails, the app goes on.
      return Promise.resolve({ code: 'EIO', message: `the file writer could not start: ${error instanceof Error ? error.message : String(error)}` });
    }
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve) => {
      this.pending.set(id, (reply) => resolve(reply.error));
      worker.postMessage({ id, fd, buffer, offset, length } satisfies WriteRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WRITER_SOURCE, { eval: true, name: 'atelier-file-writer' });
    worker.unref();
    worker.on('message', (reply: WriteReply) => {
      const settle = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      settle?.(reply);
    });
    const fail = (message: string): void => {
      if (this.worker === worker) this.worker = null;
      for (const [id, settle] of this.pending) settle({ id, error: { code: 'EIO', message } });
      this.pending.clear();
    };
    worker.on('error', (error) => fail(`the file writer failed: ${error.message}`));
    worker.on('exit', (code) => fail(`the file writer stopped (exit code ${code})`));
    this.worker = worker;
    return worker;
  }
}

const writer = new WriterThread();

/** How much is written between two early write-backs (see FileSink). */
export const SYNC_EVERY_BYTES = 8 * 1024 * 1024;
/** Early write-backs running now, over all sinks. */
let earlyWriteBacks = 0;

class FileSink extends Writable {
  private fd: number | null = null;
  /** The write at the writer thread, if any: the file is closed only after it. */
  private inFlight: Promise<unknown> = Promise.resolve();
  /** The early write-back in progress, if any, and an error it met (reported by the next write or at the end). */
  private syncing: Promise<unknown> | null = null;
  private syncError: Error | null = null;
  private sinceSync = 0;

  constructor(
    private readonly file: string,
    private readonly flags: 'w' | 'a',
  ) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    fs.open(this.file, this.flags, (error, fd) => {
      this.fd = error ? null : fd;
      callback(error);
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    if (fd === null || this.syncError) {
      callback(this.syncError ?? new Error(`${this.file} is not open`));
      return;
    }
    let buffer: SharedArrayBuffer;
    let offset = chunk.byteOffset;
    if (chunk.buffer instanceof SharedArrayBuffer) {
      buffer = chunk.buffer;
    } else {
      buffer = new SharedArrayBuffer(chunk.length);
      chunk.copy(Buffer.from(buffer));
      offset = 0;
    }
    const done = writer.write(fd, buffer, offset, chunk.length).then((error) => {
      if (!error) this.writtenBack(fd, chunk.length);
      callback(error ? Object.assign(new Error(`${error.message} (writing ${this.file})`), { code: error.code }) : null);
    });
    this.inFlight = done;
  }

  /**
   * A download is fsynced before it counts (a model the library lists must survive a power cut).
   * Left to the end, that flush of the whole file is a quarter of the download's time; started
   * every 8 MiB on libuv's thread pool, it runs while the rest arrives, and the final fsync only
   * waits for the tail. One at a time across all downloads, so that on a slow disk they do not
   * take the pool's threads from the rest of the app (a skipped one happens at the next block).
   */
  private writtenBack(fd: number, bytes: number): void {
    this.sinceSync += bytes;
    if (this.sinceSync < SYNC_EVERY_BYTES || earlyWriteBacks > 0) return;
    this.sinceSync = 0;
    earlyWriteBacks++;
    this.syncing = new Promise<void>((resolve) =>
      fs.fdatasync(fd, (error) => {
        earlyWriteBacks--;
        if (error) this.syncError ??= Object.assign(new Error(`${error.message} (writing ${this.file})`), { code: error.code });
        this.syncing = null;
        resolve();
      }),
    );
  }

  /** At the end: an early write-back that failed after the last write still fails the file. */
  override _final(callback: (error?: Error | null) => void): void {
    void Promise.resolve(this.syncing).then(() => callback(this.syncError));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    void Promise.all([this.inFlight, this.syncing]).then(() => {
      if (fd === null) callback(error);
      else fs.close(fd, (closeError) => callback(error ?? closeError));
    });
  }
}

/** Opens `file` for writing (`append`: after what is there) through the writer thread. */
export function openFileSink(file: string, append: boolean): Writable {
  return new FileSink(file, append ? 'a' : 'w');
}
