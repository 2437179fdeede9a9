import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { StudioError } from '../../shared/errors';
import { HUGGING_FACE_ORIGIN, hubEndpointProblem } from '../../shared/hub-endpoint';
import { openFileSink } from './file-sink';
import { hubPathProblem, printableName } from './hub-paths';
import { delay, errorCode, isAbort, isWriteError, notFound, OFFLINE_CODES, readBody, RestartFile, RetryableError } from './hub-errors';
import { httpGet, type HttpGetResponse } from './http-get';

/** One file of a repository at a revision, as the tree API lists it. */
export interface HubFile {
  path: string;
  size: number;
  /** Git blob sha1 of the file (for LFS files: of the pointer). */
  oid: string;
  /** sha256 of the content for LFS files; null for small files kept in git (verified by `oid`). */
  sha256: string | null;
}

export interface HubClientOptions {
  /** Hub base URL; default env HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Access token for gated/private repositories; sent only to the hub's own host. */
  getToken?: () => Promise<string | null>;
  /**
   * Whether the user allows the token to go to `origin`, a hub that is not huggingface.co (asked
   * once per client, and only when there is a token to send). Default: never.
   */
  trust?: (origin: string) => Promise<boolean>;
  /** Opens a `.partial` file for writing; tests inject one that fails with ENOSPC. */
  openWrite?: (file: string, append: boolean) => Writable;
  /** Automatic retries per file after a dropped connection or a 5xx (each resumes with Range). */
  maxRetries?: number;
  retryDelayMs?: number;
  userAgent?: string;
  /** Extra trusted certificates (PEM) besides the system's; tests use it for a self-signed hub. People behind a TLS-inspecting proxy set NODE_EXTRA_CA_CERTS, which the default store already honours. */
  ca?: string;
}

export interface DownloadFileOptions {
  signal?: AbortSignal;
  /** Bytes of this file on disk so far (absolute; goes down when a restart discards a partial). */
  onBytes?: (done: number) => void;
}

export interface DownloadedFile {
  path: string;
  bytes: number;
  sha256: string;
  etag: string | null;
}

const TreeEntry = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative().default(0),
  oid: z.string().default(''),
  lfs: z.object({ oid: z.string(), size: z.number().int().nonnegative() }).nullish(),
});

/** Sidecar next to a `.partial`: what the bytes in it belong to, so a resume never mixes versions. */
const Sidecar = z.object({ etag: z.string().nullable(), sha256: z.string().nullable(), oid: z.string(), size: z.number() });
type Sidecar = z.infer<typeof Sidecar>;

interface Hashes {
  sha256: Hash;
  /** Git blob sha1, for files kept in git (no LFS sha256 to check against). */
  sha1: Hash | null;
}

export function defaultEndpoint(): string {
  return (process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

function normaliseEtag(etag: string | null | undefined): string | null {
  if (!etag) return null;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

/**
 * A Hugging Face hub client: lists a repository's files and downloads them with resume (Range +
 * If-Range), size and digest verification while streaming, and an atomic rename into place.
 * Redirects are followed by hand so the token only ever goes to the hub's own host, and never
 * from https down to plain http.
 */
export class HubClient {
  readonly endpoint: string;
  private readonly origin: string;
  /** Why the endpoint is refused (plain http to another machine, …); every request fails with it. */
  private readonly endpointProblem: string | null;
  private readonly getToken: () => Promise<string | null>;
  private readonly trust: (origin: string) => Promise<boolean>;
  private tokenAllowed: Promise<boolean> | null = null;
  private readonly openWrite: (file: string, append: boolean) => Writable;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly userAgent: string;
  private readonly ca: string | undefined;

  constructor(options: HubClientOptions = {}) {
    this.endpoint = (options.endpoint ?? defaultEndpoint()).replace(/\/+$/, '');
    // A refused endpoint must not stop the app from starting (it may come from an older version's
    // settings): the client is built, and each request says what is wrong instead of connecting.
    this.endpointProblem = hubEndpointProblem(this.endpoint);
    this.origin = this.endpointProblem ? 'null' : new URL(this.endpoint).origin;
    this.getToken = options.getToken ?? (async () => null);
    this.trust = options.trust ?? (async () => false);
    this.openWrite = options.openWrite ?? openFileSink;
    this.maxRetries = options.maxRetries ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.userAgent = options.userAgent ?? 'atelier-model-manager/1';
    this.ca = options.ca;
  }

  resolveUrl(repo: string, revision: string, filePath: string): string {
    const encodedPath = filePath.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
  }

  /** The commit sha a branch or tag points at, so every file of one pull comes from one commit. */
  async resolveRevision(repo: string, revision: string, signal?: AbortSignal): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(revision)) return revision;
    return this.withRetries(`${repo}@${revision}`, signal, async () => {
      const res = await this.request(new URL(`${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`), {}, signal, { repo, what: `revision ${revision}` });
      const body = z.object({ sha: z.string() }).safeParse(JSON.parse(await readBody(res)));
      if (!body.success) throw new StudioError('NETWORK', `The hub's answer for ${repo}@${revision} was not understood; try again later.`);
      return body.data.sha;
    });
  }

  /** Every file (not folder) of `repo` at `revision`, following the tree API's pagination. */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<HubFile[]> {
    return this.withRetries(`the file list of ${repo}`, signal, async () => {
      const files: HubFile[] = [];
      let next: URL | null = new URL(`${this.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`);
      for (let page = 0; next && page < 1000; page++) {
        const res = await this.request(next, {}, signal, { repo, what: `revision ${revision}` });
        const link = res.header('link');
        let json: unknown;
        try {
          json = JSON.parse(await readBody(res));
        } catch {
          throw new StudioError('NETWORK', `The hub's file list for ${repo} was not valid JSON; try again later.`);
        }
        const entries = z.array(TreeEntry).safeParse(json);
        if (!entries.success) throw new StudioError('NETWORK', `The hub's file list for ${repo} was not understood; try again later.`);
        for (const e of entries.data) {
          if (e.type !== 'file') continue;
          assertSafeHubPath(repo, e.path);
          files.push({ path: e.path, size: e.lfs?.size ?? e.size, oid: e.oid, sha256: e.lfs?.oid ?? null });
        }
        const nextLink = link?.match(/<([^>]+)>;\s*rel="next"/);
        next = nextLink?.[1] ? new URL(nextLink[1], next) : null;
      }
      return files;
    });
  }

  /**
   * Downloads one file to `target`, resuming `<target>.partial` when its sidecar says the bytes
   * belong to the same content. Verifies size and digest while streaming; a mismatch deletes the
   * partial and throws HASH_MISMATCH. Retries dropped connections (resuming) up to maxRetries.
   */
  async downloadFile(repo: string, revision: string, file: HubFile, target: string, options: DownloadFileOptions = {}): Promise<DownloadedFile> {
    assertSafeHubPath(repo, file.path);
    let restarts = 0;
    return this.withRetries(file.path, options.signal, async () => {
      for (;;) {
        try {
          return await this.attempt(repo, revision, file, target, options);
        } catch (error) {
          if (!(error instanceof RestartFile)) throw error;
          await this.discardPartial(target);
          options.onBytes?.(0);
          if (++restarts > 3) throw new StudioError('NETWORK', `The hub kept changing ${file.path} while it was downloading; try again later.`);
        }
      }
    });
  }

  /** huggingface.co always; any other hub only once the user allowed it (asked at most once per client). */
  private mayReceiveToken(): Promise<boolean> {
    if (this.origin === HUGGING_FACE_ORIGIN) return Promise.resolve(true);
    this.tokenAllowed ??= this.trust(this.origin).catch(() => false);
    return this.tokenAllowed;
  }

  /** Runs `fn` again (with backoff) after connection failures; maps the last one to NETWORK. */
  private async withRetries<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; ) {
      try {
        return await fn();
      } catch (error) {
        if (isAbort(error, signal)) throw new StudioError('CANCELLED', `The download of ${what} was stopped.`);
        if (!(error instanceof RetryableError)) throw error;
        if (++failures > this.maxRetries) {
          throw new StudioError(
            'NETWORK',
            error.offline
              ? `Downloading ${what} failed: you appear to be offline (${error.message}). Check the connection and resume; the part already downloaded was kept.`
              : `Downloading ${what} failed: ${error.message}. Resume later; the part already downloaded was kept.`,
          );
        }
        await delay(this.retryDelayMs * 2 ** (failures - 1), signal);
      }
    }
  }

  private async discardPartial(target: string): Promise<void> {
    await fs.rm(`${target}.partial`, { force: true });
    await fs.rm(`${target}.partial.json`, { force: true });
  }

  private async readSidecar(target: string): Promise<Sidecar | null> {
    try {
      const parsed = Sidecar.safeParse(JSON.parse(await fs.readFile(`${target}.partial.json`, 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private async attempt(repo: string, revision: string, file: HubFile, target: string, options: DownloadFileOptions): Promise<DownloadedFile> {
    const { onBytes } = options;
    const partial = `${target}.partial`;
    const sidecar = await this.readSidecar(target);
    // Killed between the rename and the caller recording it: the file is already in place.
    if (!sidecar && !(await exists(partial)) && (await fs.stat(target).then((s) => s.size === file.size, () => false))) {
      const hashes = { sha256: createHash('sha256'), sha1: file.sha256 ? null : createHash('sha1') };
      hashes.sha1?.update(`blob ${file.size}\0`);
      await hashExisting(target, file.size, hashes);
      const sha256 = hashes.sha256.digest('hex');
      if ((file.sha256 ? sha256 : hashes.sha1?.digest('hex')) === (file.sha256 ?? file.oid)) {
        onBytes?.(file.size);
        return { path: file.path, bytes: file.size, sha256, etag: null };
      }
      await fs.rm(target, { force: true });
    }
    let start = 0;
    if (sidecar && sidecar.sha256 === file.sha256 && sidecar.oid === file.oid && sidecar.size === file.size) {
      start = await fs.stat(partial).then((s) => s.size, () => 0);
      if (start > file.size) throw new RestartFile();
    } else if ((await exists(partial)) || sidecar) {
      await this.discardPartial(target);
    }
    onBytes?.(start);

    const hashes = { sha256: createHash('sha256'), sha1: file.sha256 ? null : createHash('sha1') };
    return this.fetchInto(repo, revision, file, target, start, sidecar?.etag ?? null, hashes, options);
  }

  private async fetchInto(repo: string, revision: string, file: HubFile, target: string, start: number, etag: string | null, hashes: Hashes, options: DownloadFileOptions): Promise<DownloadedFile> {
    const { signal, onBytes } = options;
    const partial = `${target}.partial`;
    hashes.sha1?.update(`blob ${file.size}\0`);

    if (start < file.size || file.size === 0) {
      const headers: OutgoingHttpHeaders = {};
      if (start > 0) {
        headers.range = `bytes=${start}-`;
        if (etag) headers['if-range'] = `"${etag}"`;
      }
      const res = await this.request(new URL(this.resolveUrl(repo, revision, file.path)), headers, signal, { repo, what: file.path });
      const resEtag = normaliseEtag(res.header('x-linked-etag') ?? res.header('etag'));
      if (res.statusCode === 206) {
        const range = res.header('content-range')?.match(/^bytes (\d+)-(\d+)\/(\d+|\*)$/);
        const changed = etag !== null && resEtag !== null && resEtag !== etag;
        if (!range || Number(range[1]) !== start || changed) {
          res.destroy();
          throw new RestartFile();
        }
      } else if (start > 0) {
        // 200 to a Range request: the server ignored it (or If-Range saw a new ETag); this body is the whole file.
        await this.discardPartial(target);
        start = 0;
        onBytes?.(0);
      }
      etag = resEtag;
      await fs.writeFile(`${target}.partial.json`, JSON.stringify({ etag, sha256: file.sha256, oid: file.oid, size: file.size } satisfies Sidecar));
      if (start > 0) await hashExisting(partial, start, hashes);
      await this.receive(res, partial, start, file, hashes, onBytes, signal);
    } else {
      await hashExisting(partial, start, hashes);
    }

    const sha256 = hashes.sha256.digest('hex');
    const expected = file.sha256 ?? file.oid;
    const actual = file.sha256 ? sha256 : hashes.sha1?.digest('hex');
    if (expected && actual !== expected) {
      await this.discardPartial(target);
      throw new StudioError('HASH_MISMATCH', `${file.path} arrived corrupted (its ${file.sha256 ? 'sha256' : 'git hash'} is ${actual}, the hub says ${expected}); it was deleted. Download it again.`);
    }
    const fh = await fs.open(partial, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(partial, target);
    await fs.rm(`${target}.partial.json`, { force: true });
    return { path: file.path, bytes: file.size, sha256, etag };
  }

  /**
   * Streams the body into the partial, hashing as it goes. On a dropped connection or a pause the
   * bytes already received are written, not thrown away, so the next attempt resumes from them.
   */
  private async receive(res: HttpGetResponse, partial: string, start: number, file: HubFile, hashes: Hashes, onBytes: ((n: number) => void) | undefined, signal: AbortSignal | undefined): Promise<void> {
    let done = start;
    const out = this.openWrite(partial, start > 0);
    let writeError: unknown = null;
    out.on('error', (e) => (writeError ??= e));
    let readError: unknown = null;
    try {
      await res.pipe({
        sink: out,
        onData: (piece) => {
          done += piece.length;
          if (done > file.size) throw new StudioError('HASH_MISMATCH', `${file.path} is larger than the hub says (${file.size} bytes); it was deleted. Download it again.`);
          hashes.sha256.update(piece);
          hashes.sha1?.update(piece);
          onBytes?.(done);
        },
      });
    } catch (error) {
      readError = error;
    }
    if (writeError) out.destroy();
    else {
      out.end();
      // 'close', not 'finish': the file is closed and its early write-back done before the final fsync and rename.
      await closed(out);
    }
    writeError ??= readError !== null && isWriteError(readError) ? readError : null;
    if (writeError) {
      const code = errorCode(writeError);
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new StudioError('DISK_FULL', `The disk filled up while downloading ${file.path}. Free at least ${formatBytes(file.size - done)} and resume; the part already downloaded was kept.`);
      }
      throw writeError;
    }
    if (readError instanceof StudioError) {
      await this.discardPartial(partial.replace(/\.partial$/, ''));
      throw readError;
    }
    if (readError) {
      if (isAbort(readError, signal)) throw readError;
      throw new RetryableError(`the connection dropped after ${formatBytes(done)} of ${file.path}`, false);
    }
    if (done !== file.size) throw new RetryableError(`the connection ended after ${formatBytes(done)} of ${formatBytes(file.size)} of ${file.path}`, false);
  }

  /** GET with redirects followed by hand; maps statuses to StudioErrors. Resolves with a 200/206 response. */
  private async request(url: URL, extra: OutgoingHttpHeaders, signal: AbortSignal | undefined, context: { repo: string; what: string }): Promise<HttpGetResponse> {
    if (this.endpointProblem) throw new StudioError('INVALID_INPUT', `The model hub endpoint ${this.endpoint} is refused. ${this.endpointProblem} Change it in Settings → Downloads → Model hub endpoint (or the HF_ENDPOINT variable).`);
    let token = await this.getToken();
    const withheld = token !== null && !(await this.mayReceiveToken());
    if (withheld) token = null;
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      const headers: OutgoingHttpHeaders = { 'user-agent': this.userAgent, 'accept-encoding': 'identity', ...extra };
      // The token is for the hub only: a CDN or any other host behind a redirect never sees it.
      if (token && current.origin === this.origin) headers.authorization = `Bearer ${token}`;
      let res: HttpGetResponse;
      try {
        res = await httpGet(current, headers, { signal, ca: this.ca });
      } catch (error) {
        if (isAbort(error, signal)) throw error;
        const code = errorCode(error);
        throw new RetryableError(code ?? (error instanceof Error ? error.message : String(error)), code !== undefined && OFFLINE_CODES.has(code));
      }
      const status = res.statusCode;
      const location = res.header('location');
      if (status >= 300 && status < 400 && location) {
        res.destroy();
        const next = new URL(location, current);
        // A redirect may keep or raise the protection of the connection, never drop it: files are
        // hash-checked, but what a repository holds is nobody else's business on the way.
        if ((current.protocol === 'https:' && next.protocol !== 'https:') || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
          throw new StudioError('NETWORK', `The hub sent ${context.what} of ${context.repo} on to ${next.protocol}//${next.host}, which is not https; Atelier does not follow it. Try again later, or use another hub endpoint in Settings → Downloads.`);
        }
        current = next;
        continue;
      }
      if (status === 200 || status === 206) return res;
      const hubError = res.header('x-error-code');
      res.destroy();
      if (status === 401 || status === 403) {
        if (hubError === 'RepoNotFound') throw notFound(context);
        if (withheld) {
          throw new StudioError(
            'FORBIDDEN',
            `${context.repo} needs your access token, and it was not sent to ${this.origin}: the token goes only to huggingface.co or to a hub you allowed when Atelier asked. Set the hub back to ${HUGGING_FACE_ORIGIN}, or restart Atelier and allow this host when asked.`,
          );
        }
        throw new StudioError(
          'FORBIDDEN',
          `${context.repo} is gated or private: accept the licence on the model page (https://huggingface.co/${context.repo}) and add a Hugging Face access token (Models → Downloads, on the failed download), then try again.`,
        );
      }
      if (status === 404) throw notFound(context);
      if (status === 416) throw new RestartFile();
      if (status === 429 || status >= 500) throw new RetryableError(`the hub answered ${status}`, false);
      throw new StudioError('NETWORK', `The hub answered ${status} for ${context.what} of ${context.repo}; try again later.`);
    }
    throw new StudioError('NETWORK', `Too many redirects while downloading ${context.what} of ${context.repo}.`);
  }
}

/** Refuses a repository file name that could land outside the download folder on any platform. */
export function assertSafeHubPath(repo: string, name: string): void {
  const problem = hubPathProblem(name);
  if (problem) throw new StudioError('INVALID_INPUT', `${repo} lists an unsafe file name "${printableName(name)}" (${problem}); nothing was downloaded.`);
}

/** Resolves once the stream has closed, or errors (the caller checks its own error flag). */
function closed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('error', done);
    stream.on('close', done);
  });
}

async function hashExisting(file: string, bytes: number, hashes: Hashes): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 })) {
    hashes.sha256.update(chunk as Buffer);
    hashes.sha1?.update(chunk as Buffer);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, n);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}
