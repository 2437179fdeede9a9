import { createHash, randomBytes } from 'node:crypto';
import fs, { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openFileSink, SYNC_EVERY_BYTES } from '../../src/main/models/file-sink';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function write(sink: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sink.write(chunk, (error) => (error ? reject(error) : resolve())));
}

function finish(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.once('error', reject);
    sink.once('close', resolve);
    sink.end();
  });
}

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-sink-'));
  dirs.push(dir);
  return dir;
}

describe('openFileSink', () => {
  it('writes shared and ordinary blocks in order, queued or not, and appends after what is there', async () => {
    const file = path.join(tempDir(), 'model.onnx');
    writeFileSync(file, 'kept');
    const blocks: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const block = i % 2 === 0 ? Buffer.from(new SharedArrayBuffer(300_000)) : Buffer.alloc(123_457);
      randomBytes(block.length).copy(block);
      blocks.push(block);
    }
    const sink = openFileSink(file, true);
    // Half written one at a time, half queued behind each other without waiting.
    for (const block of blocks.slice(0, 6)) await write(sink, block);
    await Promise.all(blocks.slice(6).map((block) => write(sink, block)));
    await finish(sink);
    expect(sha(readFileSync(file))).toBe(sha(Buffer.concat([Buffer.from('kept'), ...blocks])));

    const fresh = openFileSink(file, false);
    await write(fresh, Buffer.from('new'));
    await finish(fresh);
    expect(readFileSync(file, 'utf8')).toBe('new');
  });

  it('writes back early every SYNC_EVERY_BYTES while a long file is still arriving, and closes only after that', async () => {
    // Each write-back answers at once and notes how much of the file was written when it started,
    // so the count does not depend on how fast this machine's disk happens to be.
    const writtenAtSync: number[] = [];
    const fdatasync = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      writtenAtSync.push(fs.fstatSync(fd).size);
      process.nextTick(callback, null);
    }) as typeof fs.fdatasync);
    const close = vi.spyOn(fs, 'close');
    const file = path.join(tempDir(), 'big.bin');
    const sink = openFileSink(file, false);
    const block = Buffer.from(new SharedArrayBuffer(512 * 1024));
    const total = 3 * SYNC_EVERY_BYTES;
    for (let done = 0; done < total; done += block.length) await write(sink, block);
    await finish(sink);
    expect(fdatasync).toHaveBeenCalledTimes(3);
    expect(writtenAtSync).toEqual([SYNC_EVERY_BYTES, 2 * SYNC_EVERY_BYTES, 3 * SYNC_EVERY_BYTES]);
    expect(close).toHaveBeenCalledTimes(1);
    expect(fs.statSync(file).size).toBe(total);
  });

  it('runs one early write-back at a time across downloads, so a slow disk cannot take the thread pool', async () => {
    const real = fs.fdatasync.bind(fs);
    let running = 0;
    let most = 0;
    const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      running++;
      most = Math.max(most, running);
      // A slow disk: each write-back takes a while.
      setTimeout(() => real(fd, (error) => (running--, callback(error))), 30);
    }) as typeof fs.fdatasync);
    const dir = tempDir();
    const block = Buffer.from(new SharedArrayBuffer(512 * 1024));
    await Promise.all(
      ['a.bin', 'b.bin', 'c.bin'].map(async (name) => {
        const sink = openFileSink(path.join(dir, name), false);
        for (let done = 0; done < 3 * SYNC_EVERY_BYTES; done += block.length) await write(sink, block);
        await finish(sink);
      }),
    );
    expect(spy).toHaveBeenCalled();
    expect(most).toBe(1);
    for (const name of ['a.bin', 'b.bin', 'c.bin']) expect(fs.statSync(path.join(dir, name)).size).toBe(3 * SYNC_EVERY_BYTES);
  });

  it('fails the file when an early write-back fails, even after the last write', async () => {
    vi.spyOn(fs, 'fdatasync').mockImplementation(((_fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      setTimeout(() => callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })), 20);
    }) as typeof fs.fdatasync);
    const sink = openFileSink(path.join(tempDir(), 'bad.bin'), false);
    const block = Buffer.from(new SharedArrayBuffer(512 * 1024));
    // Exactly one interval: the write-back starts with the last block and fails after it.
    for (let done = 0; done < SYNC_EVERY_BYTES; done += block.length) await write(sink, block);
    await expect(finish(sink)).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('bad.bin') });
  });

  it.skipIf(!existsSync('/dev/full'))('reports a full disk as ENOSPC, naming the file', async () => {
    const sink = openFileSink('/dev/full', false);
    sink.on('error', () => {});
    await expect(write(sink, Buffer.alloc(70_000))).rejects.toMatchObject({ code: 'ENOSPC', message: expect.stringContaining('/dev/full') });
    sink.destroy();
  });

  it('fails to open a file in a missing folder with the error from open', async () => {
    const sink = openFileSink(path.join(tempDir(), 'missing', 'x.bin'), false);
    const error = await new Promise((resolve) => sink.once('error', resolve));
    expect(error).toMatchObject({ code: 'ENOENT' });
  });

  it('fails the write, not the process, when the writer thread cannot start', async () => {
    vi.resetModules();
    vi.doMock('node:worker_threads', () => ({
      Worker: class {
        constructor() {
          throw new Error('no threads here');
        }
      },
    }));
    try {
      const { openFileSink: openWithoutThreads } = await import('../../src/main/models/file-sink');
      const sink = openWithoutThreads(path.join(tempDir(), 'x.bin'), false);
      sink.on('error', () => {});
      await expect(write(sink, Buffer.alloc(10))).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('no threads here') });
      sink.destroy();
    } finally {
      vi.doUnmock('node:worker_threads');
      vi.resetModules();
    }
  });
});
