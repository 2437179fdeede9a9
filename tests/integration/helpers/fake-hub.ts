/**
 * A local stand-in for the Hugging Face hub: the tree and revision APIs and resolve URLs on one
 * server, LFS files redirected (302) to a second "CDN" server on another port, Range/If-Range
 * honoured with 206/Content-Range, plus fault switches for the download tests.
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  path: string;
  content: Buffer;
  /** Stored in LFS (served through the CDN redirect); default: larger than 1 KiB. */
  lfs?: boolean;
}

export interface FakeRepo {
  files: FakeFile[];
  /** Downloads need `Authorization: Bearer <token>`. */
  gatedToken?: string;
}

export interface Faults {
  /** Destroy the connection after this many body bytes of `path`, `times` times (default once). */
  dropAfter?: { path: string; bytes: number; times?: number };
  /** Answer 200 with the whole file to every Range request. */
  ignoreRange?: boolean;
  /** Flip the byte at `at` of `path` in every body served. */
  flipByte?: { path: string; at: number };
  /** Send bodies at about this many bytes per second (for kill tests). */
  bytesPerSecond?: number;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  url: string;
  headers: IncomingMessage['headers'];
  status: number;
}

export interface FakeHub {
  endpoint: string;
  cdnOrigin: string;
  faults: Faults;
  requests: LoggedRequest[];
  /** Makes the ETag of a file (on hub and CDN) change, as after a re-upload. */
  changeEtag(repo: string, filePath: string): void;
  close(): Promise<void>;
}

interface Stored {
  file: FakeFile;
  lfs: boolean;
  sha256: string;
  oid: string;
  etagVersion: number;
}

export const COMMIT = 'a'.repeat(40);

function gitOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const stored = new Map<string, Map<string, Stored>>();
  const bySha = new Map<string, { repo: string; entry: Stored }>();
  for (const [repo, def] of Object.entries(repos)) {
    const files = new Map<string, Stored>();
    for (const file of def.files) {
      const sha256 = createHash('sha256').update(file.content).digest('hex');
      const entry = { file, lfs: file.lfs ?? file.content.length > 1024, sha256, oid: gitOid(file.content), etagVersion: 0 };
      files.set(file.path, entry);
      bySha.set(`${repo}/${sha256}`, { repo, entry });
    }
    stored.set(repo, files);
  }
  const faults: Faults = {};
  const requests: LoggedRequest[] = [];
  const etagOf = (e: Stored): string => `"${e.lfs ? e.sha256 : e.oid}${e.etagVersion ? `-v${e.etagVersion}` : ''}"`;

  function send(req: IncomingMessage, res: ServerResponse, entry: Stored): void {
    const content = entry.file.content;
    const etag = etagOf(entry);
    const range = req.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
    const ifRange = req.headers['if-range'];
    let start = 0;
    let end = content.length - 1;
    let status = 200;
    if (range && !faults.ignoreRange && (!ifRange || ifRange === etag)) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), end) : end;
      if (start > end && content.length > 0) {
        res.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
        return;
      }
      status = 206;
    }
    let body = content.subarray(start, end + 1);
    const flip = faults.flipByte;
    if (flip && flip.path === entry.file.path && flip.at >= start && flip.at <= end) {
      body = Buffer.from(body);
      body[flip.at - start] = body[flip.at - start]! ^ 0xff;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-length': body.length, etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${content.length}`;
    res.writeHead(status, headers);
    const drop = faults.dropAfter;
    const dropHere = drop && drop.path === entry.file.path && (drop.times ?? 1) > 0;
    if (!dropHere && !faults.bytesPerSecond) {
      res.end(body);
      return;
    }
    const limit = dropHere ? Math.max(0, drop.bytes - start) : body.length;
    if (dropHere) drop.times = (drop.times ?? 1) - 1;
    const chunk = 16 * 1024;
    let offset = 0;
    const pump = (): void => {
      if (res.destroyed) return;
      if (offset >= limit) {
        if (dropHere) res.socket?.destroy();
        else res.end();
        return;
      }
      const n = Math.min(chunk, limit - offset);
      const ok = res.write(body.subarray(offset, offset + n));
      offset += n;
      const wait = faults.bytesPerSecond ? (n / faults.bytesPerSecond) * 1000 : 0;
      if (wait > 0) setTimeout(pump, wait);
      else if (ok) setImmediate(pump);
      else res.once('drain', pump);
    };
    pump();
  }

  const cdn = http.createServer((req, res) => {
    res.on('finish', () => requests.push({ server: 'cdn', url: req.url ?? '', headers: req.headers, status: res.statusCode }));
    res.on('close', () => {
      if (!res.writableFinished) requests.push({ server: 'cdn', url: req.url ?? '', headers: req.headers, status: res.statusCode });
    });
    const key = new URL(req.url ?? '/', 'http://x').pathname.match(/^\/repos\/([^/]+\/[^/]+\/[0-9a-f]{64})$/)?.[1];
    const found = key ? bySha.get(key) : undefined;
    if (!found) return void res.writeHead(404).end();
    send(req, res, found.entry);
  });

  const hub = http.createServer((req, res) => {
    res.on('finish', () => requests.push({ server: 'hub', url: req.url ?? '', headers: req.headers, status: res.statusCode }));
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const api = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/(tree|revision)\/([^/]+)$/);
    if (api) {
      const files = stored.get(api[1]!);
      if (!files) return json(404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      if (api[2] === 'revision') return json(200, { id: api[1], sha: COMMIT });
      const dirs = new Set<string>();
      const entries: unknown[] = [];
      for (const e of files.values()) {
        const parts = e.file.path.split('/');
        for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
        entries.push({ type: 'file', path: e.file.path, size: e.lfs ? 135 : e.file.content.length, oid: e.oid, ...(e.lfs ? { lfs: { oid: e.sha256, size: e.file.content.length, pointerSize: 135 } } : {}) });
      }
      return json(200, [...[...dirs].map((d) => ({ type: 'directory', path: d, oid: 'd'.repeat(40), size: 0 })), ...entries]);
    }
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (!resolve) return json(404, { error: 'not found' });
    const repo = resolve[1]!;
    const files = stored.get(repo);
    if (!files) return json(404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    const gated = repos[repo]?.gatedToken;
    if (gated) {
      const auth = req.headers.authorization;
      if (!auth) return json(401, { error: 'Access to this model is restricted' }, { 'x-error-code': 'GatedRepo' });
      if (auth !== `Bearer ${gated}`) return json(403, { error: 'Access denied' }, { 'x-error-code': 'GatedRepo' });
    }
    const entry = files.get(decodeURIComponent(resolve[3]!));
    if (!entry) return json(404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    if (entry.lfs) {
      res.writeHead(302, {
        location: `${cdnOrigin}/repos/${repo}/${entry.sha256}?X-Amz-Signature=fake`,
        'x-linked-size': entry.file.content.length,
        'x-linked-etag': etagOf(entry),
        'x-repo-commit': COMMIT,
        etag: `"${entry.oid}"`,
      });
      return void res.end();
    }
    send(req, res, entry);
  });

  await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  const cdnOrigin = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  return {
    endpoint,
    cdnOrigin,
    faults,
    requests,
    changeEtag(repo, filePath) {
      const entry = stored.get(repo)?.get(filePath);
      if (!entry) throw new Error(`no ${repo}/${filePath}`);
      entry.etagVersion++;
    },
    async close() {
      hub.closeAllConnections();
      cdn.closeAllConnections();
      await Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => cdn.close(r))]);
    },
  };
}
