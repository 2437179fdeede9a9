import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { BLOCK_BYTES, BLOCKS, ChunkedDecoder, HttpGetError, httpGet, parseHead } from '../../src/main/models/http-get';
import { localhostCertificate } from './helpers/tls-cert';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A raw TCP server whose connection handler writes whatever bytes a test wants, however split. */
async function rawServer(handler: (socket: net.Socket, request: string) => unknown): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let request = '';
    socket.on('data', (chunk: Buffer) => {
      request += chunk.toString('latin1');
      if (request.includes('\r\n\r\n')) {
        socket.removeAllListeners('data');
        void handler(socket, request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/file`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** A sink that takes `delayMs` per write and records the most bytes it ever held unwritten. */
function slowSink(delayMs: number): { sink: Writable; bytes: () => Buffer; writes: () => number; maxQueued: () => number; largestWrite: () => number } {
  const parts: Buffer[] = [];
  let writes = 0;
  let maxQueued = 0;
  let largestWrite = 0;
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      writes++;
      largestWrite = Math.max(largestWrite, chunk.length);
      maxQueued = Math.max(maxQueued, sink.writableLength);
      parts.push(Buffer.from(chunk));
      setTimeout(cb, delayMs);
    },
  });
  return { sink, bytes: () => Buffer.concat(parts), writes: () => writes, maxQueued: () => maxQueued, largestWrite: () => largestWrite };
}

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

describe('httpGet', () => {
  it('streams a 24 MB body through a slow disk with bounded memory, every byte in order', async () => {
    const body = randomBytes(24 * 1024 * 1024);
    const server = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nETag: "abc"\r\n\r\n`);
      socket.end(body);
    });
    closers.push(server.close);
    const res = await httpGet(new URL(server.url), { 'user-agent': 'test' });
    expect(res.statusCode).toBe(200);
    expect(res.header('etag')).toBe('"abc"');
    const { sink, bytes, writes, maxQueued, largestWrite } = slowSink(2);
    const seen = createHash('sha256');
    const n = await res.pipe({ sink, onData: (piece) => seen.update(piece) });
    expect(n).toBe(body.length);
    expect(seen.digest('hex')).toBe(sha(body));
    expect(sha(bytes())).toBe(sha(body));
    // Whole blocks (the last one excepted), not one write per read nor one huge write.
    expect(writes()).toBe(Math.ceil(body.length / BLOCK_BYTES));
    expect(largestWrite()).toBe(BLOCK_BYTES);
    // At most BLOCKS blocks wait for the disk: the socket pauses instead of buffering 24 MB.
    expect(maxQueued()).toBeLessThanOrEqual(BLOCKS * BLOCK_BYTES);
  });

  it('decodes a chunked body whose framing arrives one byte at a time, with a 103 and split headers first', async () => {
    const parts = [randomBytes(70_000), randomBytes(1), randomBytes(3_000_000)];
    const server = await rawServer(async (socket) => {
      const send = async (text: string | Buffer, bytewise = false): Promise<void> => {
        const buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
        if (!bytewise) return void socket.write(buf);
        for (const byte of buf) {
          socket.write(Buffer.from([byte]));
          await new Promise((r) => setImmediate(r));
        }
      };
      await send('HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n', true);
      await send('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Linked-Size: 3070001\r\n\r\n', true);
      for (const part of parts) {
        await send(`${part.length.toString(16)};ext=1\r\n`, true);
        await send(part);
        await send('\r\n', true);
      }
      await send('0\r\nX-Trailer: yes\r\n\r\n', true);
      socket.end();
    });
    closers.push(server.close);
    const res = await httpGet(new URL(server.url), {});
    expect(res.statusCode).toBe(200);
    expect(res.header('x-linked-size')).toBe('3070001');
    const { sink, bytes } = slowSink(0);
    await res.pipe({ sink });
    expect(sha(bytes())).toBe(sha(Buffer.concat(parts)));
  });

  it('writes what arrived before the connection dropped, then fails with a connection error', async () => {
    const body = randomBytes(10 * 1024 * 1024);
    const server = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body.subarray(0, 6_000_000), () => setTimeout(() => socket.destroy(), 50));
    });
    closers.push(server.close);
    const res = await httpGet(new URL(server.url), {});
    const { sink, bytes } = slowSink(1);
    const error = await res.pipe({ sink }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toMatch(/ECONNRESET/);
    expect(bytes().length).toBe(6_000_000);
    expect(sha(bytes())).toBe(sha(body.subarray(0, 6_000_000)));
  });

  it('stops on abort, keeping the bytes received so far', async () => {
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n');
      socket.write(Buffer.alloc(2_000_000, 7));
    });
    closers.push(server.close);
    const controller = new AbortController();
    const res = await httpGet(new URL(server.url), {}, { signal: controller.signal });
    const { sink, bytes } = slowSink(0);
    let seen = 0;
    const error = await res
      .pipe({
        sink,
        onData: (piece) => {
          seen += piece.length;
          if (seen >= 2_000_000) controller.abort();
        },
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect((error as Error).name).toBe('AbortError');
    expect(bytes().length).toBe(2_000_000);
  });

  it('stops when onData throws, and when the sink fails, with that error', async () => {
    const body = randomBytes(9 * 1024 * 1024);
    const server = await rawServer((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.end(body);
    });
    closers.push(server.close);
    const tooBig = new Error('larger than the hub says');
    const res1 = await httpGet(new URL(server.url), {});
    let seen = 0;
    await expect(
      res1.pipe({
        onData: (piece) => {
          seen += piece.length;
          if (seen > 1_000_000) throw tooBig;
        },
      }),
    ).rejects.toBe(tooBig);

    const res2 = await httpGet(new URL(server.url), {});
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const failing = new Writable({ write: (_chunk, _enc, cb) => cb(full) });
    failing.on('error', () => {});
    await expect(res2.pipe({ sink: failing })).rejects.toBe(full);
  });

  it('gives up on a server that stops answering, and on one that closes before answering', async () => {
    const silent = await rawServer(() => {});
    closers.push(silent.close);
    await expect(httpGet(new URL(silent.url), {}, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const closing = await rawServer((socket) => socket.end());
    closers.push(closing.close);
    await expect(httpGet(new URL(closing.url), {})).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(httpGet(new URL('http://127.0.0.1:1/none'), {})).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses header injection, oversized or malformed heads, and conflicting lengths', async () => {
    await expect(httpGet(new URL('http://127.0.0.1:1/'), { 'x-evil': 'a\r\nHost: elsewhere' })).rejects.toMatchObject({ code: 'ERR_INVALID_HEADER' });
    const huge = await rawServer((socket) => socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}`));
    closers.push(huge.close);
    await expect(httpGet(new URL(huge.url), {})).rejects.toMatchObject({ code: 'ERR_BAD_RESPONSE' });
    const conflicting = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello'));
    closers.push(conflicting.close);
    await expect(httpGet(new URL(conflicting.url), {})).rejects.toMatchObject({ code: 'ERR_BAD_RESPONSE' });
    expect(() => parseHead('SSH-2.0-OpenSSH')).toThrow(HttpGetError);
    expect(parseHead('HTTP/1.1 302 Found\r\nLocation: /a\r\nX-A: 1\r\nx-a: 2')).toEqual({ statusCode: 302, headers: { location: '/a', 'x-a': '1, 2' } });
  });

  it('reads a body delimited by the end of the connection, and a small text answer', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"sha":"abc"}'));
    closers.push(server.close);
    expect(await (await httpGet(new URL(server.url), {})).text(1000)).toBe('{"sha":"abc"}');
    await expect((await httpGet(new URL(server.url), {})).text(5)).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
  });
});

describe('ChunkedDecoder', () => {
  it('rejects a malformed chunk size and a missing chunk end', () => {
    expect(() => new ChunkedDecoder().feed(Buffer.from('zz\r\n'), () => {})).toThrow(/chunk size/);
    expect(() => new ChunkedDecoder().feed(Buffer.from('2\r\nabX\r\n'), () => {})).toThrow(/chunk end/);
  });
});

describe('httpGet over TLS (openssl makes the certificate; `npm test` checks it is installed)', () => {
  it('checks the certificate, and downloads through TLS with an extra trusted CA', async () => {
    const { key, cert } = localhostCertificate();
    const body = randomBytes(5 * 1024 * 1024);
    const server = https.createServer({ key, cert }, (_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const url = new URL(`https://localhost:${(server.address() as net.AddressInfo).port}/file`);
    await expect(httpGet(url, {})).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/) });
    const res = await httpGet(url, {}, { ca: cert });
    const { sink, bytes } = slowSink(0);
    await res.pipe({ sink });
    expect(sha(bytes())).toBe(sha(body));
  });
});
