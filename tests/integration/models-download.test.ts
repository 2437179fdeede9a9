import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelInspection } from '../../src/shared/engine-protocol';
import { StudioError } from '../../src/shared/errors';
import { openLibrary, type Library } from '../../src/main/library';
import { modelsPullCommand, modelsRemoveCommand, modelsVerifyCommand } from '../../src/main/models/cli';
import { parseCatalog } from '../../src/main/models/catalog';
import { HubClient, type HubClientOptions } from '../../src/main/models/hub-client';
import { ModelManager, type DownloadState, type ModelManagerOptions } from '../../src/main/models/manager';
import { startFakeHub, type FakeHub } from './helpers/fake-hub';

const REPO = 'acme/tiny-chat';
const GATED = 'acme/gated-chat';
const ID = 'acme--tiny-chat@main';
const big = randomBytes(3 * 1024 * 1024 + 123);
const q4 = randomBytes(600 * 1024);
const config = Buffer.from(JSON.stringify({ model_type: 'llama' }));
const tokenizer = Buffer.from(JSON.stringify({ version: '1.0', model: {} }));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Stands in for the engine's inspect: ok when the files a text model needs are there. */
async function fakeValidate(dir: string): Promise<ModelInspection> {
  const need = ['config.json', 'tokenizer.json'];
  const problems = need.filter((f) => !existsSync(path.join(dir, f))).map((f) => `${f} is missing`);
  if (!existsSync(path.join(dir, 'onnx')) || !readdirSync(path.join(dir, 'onnx')).some((f) => f.endsWith('.onnx'))) problems.push('no onnx/*.onnx');
  return { kind: problems.length ? 'unknown' : 'text', ok: problems.length === 0, problems, files: [], totalBytes: 0 };
}

let hub: FakeHub;
let tmp: string;
let library: Library;
let states: DownloadState[];

function manager(options: Partial<ModelManagerOptions> = {}, hubOptions: HubClientOptions = {}): ModelManager {
  return new ModelManager({
    modelsDir: path.join(tmp, 'models'),
    library,
    validate: fakeValidate,
    hub: new HubClient({ endpoint: hub.endpoint, retryDelayMs: 5, ...hubOptions }),
    onProgress: (s) => states.push(s),
    progressIntervalMs: 20,
    statfs: async () => ({ bavail: 1e9, bsize: 4096 }),
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<StudioError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StudioError);
  return error as StudioError;
}

const cdnRequests = (): FakeHub['requests'] => hub.requests.filter((r) => r.server === 'cdn');
const installed = (file: string): Buffer => readFileSync(path.join(tmp, 'models', ID, file));
const stagingDir = (): string => path.join(tmp, 'models', '.downloads', ID);

beforeEach(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'atelier-models-'));
  mkdirSync(path.join(tmp, 'models'));
  library = openLibrary(path.join(tmp, 'library'));
  states = [];
  const files = [
    { path: 'config.json', content: config },
    { path: 'tokenizer.json', content: tokenizer },
    { path: 'onnx/model.onnx', content: big },
    { path: 'onnx/model_q4.onnx', content: q4 },
  ];
  hub = await startFakeHub({ [REPO]: { files }, [GATED]: { files, gatedToken: 'hf_secret' } });
});

afterEach(async () => {
  library.close();
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('pull', () => {
  it('downloads the chosen files through the CDN redirect, verifies them and registers the model', async () => {
    const record = await manager().pull(REPO, { files: ['*.json', 'onnx/model.onnx'] });
    expect(record).toMatchObject({ id: ID, kind: 'text', source: `hf:${REPO}@main`, bytes: config.length + tokenizer.length + big.length });
    expect(sha(installed('onnx/model.onnx'))).toBe(sha(big));
    expect(existsSync(path.join(tmp, 'models', ID, 'onnx/model_q4.onnx'))).toBe(false);
    expect(library.findModel(ID)?.path).toBe(path.join(tmp, 'models', ID));
    expect(existsSync(stagingDir())).toBe(false);
    expect(cdnRequests().map((r) => r.status)).toEqual([200]);
    expect((await manager().verify(ID)).ok).toBe(true);
  });

  it('resumes a download after the connection drops', async () => {
    hub.faults.dropAfter = { path: 'onnx/model.onnx', bytes: 1_000_000 };
    await manager().pull(REPO);
    expect(sha(installed('onnx/model.onnx'))).toBe(sha(big));
    const ranges = cdnRequests().map((r) => r.headers.range);
    expect(ranges).toContain('bytes=1000000-');
    expect(cdnRequests().find((r) => r.headers.range)?.status).toBe(206);
  });

  it('restarts the file cleanly when the server ignores Range', async () => {
    hub.faults.dropAfter = { path: 'onnx/model.onnx', bytes: 1_000_000 };
    hub.faults.ignoreRange = true;
    await manager().pull(REPO);
    expect(sha(installed('onnx/model.onnx'))).toBe(sha(big));
    const resumed = cdnRequests().find((r) => r.headers.range);
    expect(resumed?.status).toBe(200);
  });

  it('restarts the file when its ETag changed between attempts', async () => {
    hub.faults.dropAfter = { path: 'onnx/model.onnx', bytes: 1_000_000 };
    const first = await rejection(manager({}, { maxRetries: 0 }).pull(REPO));
    expect(first.code).toBe('NETWORK');
    expect(readFileSync(path.join(stagingDir(), 'files/onnx/model.onnx.partial')).length).toBe(1_000_000);
    hub.changeEtag(REPO, 'onnx/model.onnx');
    await manager().pull(REPO);
    expect(sha(installed('onnx/model.onnx'))).toBe(sha(big));
    const retry = cdnRequests().filter((r) => r.url.includes(sha(big))).at(-1);
    expect(retry?.headers.range).toBe('bytes=1000000-');
    expect(retry?.status).toBe(200); // If-Range carried the old ETag, so the whole file came back
  });

  it('deletes a file with one flipped byte, fails with HASH_MISMATCH and registers nothing', async () => {
    hub.faults.flipByte = { path: 'onnx/model.onnx', at: 2_000_000 };
    const error = await rejection(manager().pull(REPO));
    expect(error.code).toBe('HASH_MISMATCH');
    expect(error.message).toContain('onnx/model.onnx');
    expect(existsSync(path.join(stagingDir(), 'files/onnx/model.onnx.partial'))).toBe(false);
    expect(existsSync(path.join(tmp, 'models', ID))).toBe(false);
    expect(library.listModels()).toEqual([]);
    expect(states.at(-1)).toMatchObject({ status: 'failed', error: { code: 'HASH_MISMATCH' } });
  });

  it('refuses to start when the disk has too little space, saying how much is needed', async () => {
    const error = await rejection(manager({ statfs: async () => ({ bavail: 100, bsize: 4096 }) }).pull(REPO));
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toMatch(/needs 3\.8 MB .* only 410 KB is free/);
    expect(cdnRequests()).toEqual([]);
    expect(library.listModels()).toEqual([]);
  });

  it('counts what a running download will still write before starting another one', async () => {
    // Room for one copy of the model (4.4 MB) but not two.
    const m = manager({ statfs: async () => ({ bavail: 5_000_000 / 4096, bsize: 4096 }), diskHeadroomBytes: 0 }, { getToken: async () => 'hf_secret', trust: async () => true });
    hub.faults.bytesPerSecond = 4 * 1024 * 1024;
    const first = m.pull(REPO);
    await expect.poll(() => states.some((s) => s.id === ID && s.status === 'downloading')).toBe(true);
    const error = await rejection(m.pull(GATED));
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toMatch(/downloads already running will still write/);
    await first;
    hub.faults.bytesPerSecond = undefined;
    // Once the first one is done its bytes are on the disk (the fake statfs does not shrink), so the second fits.
    expect((await m.pull(GATED)).id).toBe('acme--gated-chat@main');
  });

  it('stops with DISK_FULL when the disk fills while writing, keeps the partial and registers nothing', async () => {
    const openWrite = (file: string): Writable => {
      let written = 0;
      const out = new Writable({
        write(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (file.endsWith('model.onnx.partial') && written > 500_000) return cb(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
          writeFileSync(file, chunk, { flag: 'a' });
          cb();
        },
      });
      writeFileSync(file, '');
      return out;
    };
    const error = await rejection(manager({ concurrency: 1 }, { openWrite }).pull(REPO));
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toContain('onnx/model.onnx');
    expect(existsSync(path.join(stagingDir(), 'files/onnx/model.onnx.partial'))).toBe(true);
    expect(library.listModels()).toEqual([]);
    // After freeing space the same download finishes from where it stopped.
    await manager().resume(ID);
    expect(sha(installed('onnx/model.onnx'))).toBe(sha(big));
  });

  it('says a gated repository needs the licence accepted and a token; the token never reaches the CDN', async () => {
    const gatedId = 'acme--gated-chat@main';
    const error = await rejection(manager().pull(GATED));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/accept the licence.*token/);
    expect(library.listModels()).toEqual([]);

    // The fake hub stands for a host the user allowed; hub-trust.test.ts covers one they did not.
    const record = await manager({}, { getToken: async () => 'hf_secret', trust: async () => true }).pull(GATED);
    expect(record.id).toBe(gatedId);
    const hubResolves = hub.requests.filter((r) => r.server === 'hub' && r.url.includes('/resolve/') && r.status !== 401);
    expect(hubResolves.length).toBeGreaterThan(0);
    expect(hubResolves.every((r) => r.headers.authorization === 'Bearer hf_secret')).toBe(true);
    expect(cdnRequests().length).toBeGreaterThan(0);
    expect(cdnRequests().every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('reports a missing repository as NOT_FOUND and an unreachable hub as offline', async () => {
    expect((await rejection(manager().pull('acme/nope'))).code).toBe('NOT_FOUND');
    const offline = new ModelManager({
      modelsDir: path.join(tmp, 'models'),
      library,
      validate: fakeValidate,
      hub: { endpoint: 'http://127.0.0.1:9', retryDelayMs: 1, maxRetries: 1 },
    });
    const error = await rejection(offline.pull(REPO));
    expect(error.code).toBe('NETWORK');
    expect(error.message).toContain('you appear to be offline');
  });

  it('registers nothing when the downloaded folder is not a valid model', async () => {
    const error = await rejection(manager().pull(REPO, { files: ['*.json'] }));
    expect(error.code).toBe('MODEL_INVALID');
    // Each problem is its own sentence before the advice.
    expect(error.message).toMatch(/can run: no onnx\/\*\.onnx\. Choose other files or another model\.$/);
    expect(library.listModels()).toEqual([]);
    expect(existsSync(path.join(tmp, 'models', ID))).toBe(false);
  });

  it('picks the files of a catalog dtype, and keeps a file that was already renamed into place', async () => {
    const catalog = parseCatalog({
      version: 1,
      models: [
        {
          id: 'tiny-chat', kind: 'text', repo: REPO, revision: 'main', verified: false, title: 'Tiny', goodFor: 'tests',
          licence: { id: 'mit', url: 'https://example.com' }, hardware: 'any', common: ['*.json'], defaultDtype: 'q4',
          dtypes: { q4: { files: ['onnx/model_q4.onnx'], approxBytes: 1 }, fp32: { files: ['onnx/model.onnx'], approxBytes: 1 } },
        },
      ],
    });
    const placed = path.join(stagingDir(), 'files', 'onnx', 'model_q4.onnx');
    mkdirSync(path.dirname(placed), { recursive: true });
    writeFileSync(placed, q4);
    const record = await manager({ catalog }).pull(REPO, { dtype: 'q4' });
    expect(record.bytes).toBe(config.length + tokenizer.length + q4.length);
    expect(existsSync(path.join(tmp, 'models', ID, 'onnx/model.onnx'))).toBe(false);
    expect(sha(installed('onnx/model_q4.onnx'))).toBe(sha(q4));
    expect(cdnRequests()).toEqual([]); // the only LFS file was already there and verified
    await expect(manager().pull('acme/other', { dtype: 'q4' })).rejects.toThrow(/not in the catalog/);
  });

  it('reports progress with bytes, a smoothed rate and an ETA', async () => {
    hub.faults.bytesPerSecond = 8 * 1024 * 1024;
    await manager().pull(REPO);
    const downloading = states.filter((s) => s.status === 'downloading');
    const total = config.length + tokenizer.length + big.length + q4.length;
    expect(downloading.every((s) => s.bytesTotal === total)).toBe(true);
    const mid = downloading.filter((s) => s.bytesDone > 0 && s.bytesDone < total && s.rate > 0);
    expect(mid.length).toBeGreaterThan(2);
    expect(mid.every((s) => typeof s.etaMs === 'number' && s.etaMs >= 0)).toBe(true);
    // Loopback throttled to 8 MB/s for three files at once: the smoothed rate is in that order of magnitude.
    expect(mid.at(-1)!.rate).toBeGreaterThan(1e6);
    expect(mid.at(-1)!.rate).toBeLessThan(1e9);
    expect(states.map((s) => s.status)).toEqual(expect.arrayContaining(['queued', 'downloading', 'verifying', 'done']));
    expect(states.at(-1)).toMatchObject({ status: 'done', bytesDone: total });
  });

  it('pauses keeping the partial, then resumes from it', async () => {
    hub.faults.bytesPerSecond = 2 * 1024 * 1024;
    const m = manager();
    const pulling = m.pull(REPO);
    await waitFor(() => states.some((s) => s.bytesDone > 600_000));
    await m.pause(ID);
    expect((await rejection(pulling)).code).toBe('CANCELLED');
    expect(states.at(-1)?.status).toBe('paused');
    expect((await m.listDownloads()).find((d) => d.id === ID)?.status).toBe('paused');
    hub.faults.bytesPerSecond = undefined;
    await m.resume(ID);
    expect(sha(installed('onnx/model.onnx'))).toBe(sha(big));
    expect(cdnRequests().some((r) => r.headers.range && r.status === 206)).toBe(true);
  });

  it('cancel stops the download and deletes its partial files', async () => {
    hub.faults.bytesPerSecond = 2 * 1024 * 1024;
    const m = manager();
    const pulling = m.pull(REPO);
    await waitFor(() => states.some((s) => s.bytesDone > 300_000));
    expect(existsSync(path.join(stagingDir(), 'files/onnx/model.onnx.partial'))).toBe(true);
    await m.cancel(ID);
    expect((await rejection(pulling)).code).toBe('CANCELLED');
    expect(existsSync(stagingDir())).toBe(false);
    expect(states.at(-1)?.status).toBe('cancelled');
    expect(library.listModels()).toEqual([]);
  });
});

describe('installed models', () => {
  it('verify finds a corrupted file; remove deletes downloaded files but never an imported folder', async () => {
    const m = manager();
    await m.pull(REPO);
    const file = path.join(tmp, 'models', ID, 'onnx/model_q4.onnx');
    const bytes = readFileSync(file);
    bytes[10] = bytes[10]! ^ 1;
    writeFileSync(file, bytes);
    const report = await m.verify(ID);
    expect(report.ok).toBe(false);
    expect(report.files.filter((f) => f.problem).map((f) => f.path)).toEqual(['onnx/model_q4.onnx']);

    const removed = await m.remove(ID);
    expect(removed).toMatchObject({ id: ID, usedBy: 0, filesDeleted: true });
    expect(existsSync(path.join(tmp, 'models', ID))).toBe(false);

    const own = path.join(tmp, 'my-model');
    mkdirSync(path.join(own, 'onnx'), { recursive: true });
    writeFileSync(path.join(own, 'config.json'), config);
    writeFileSync(path.join(own, 'tokenizer.json'), tokenizer);
    writeFileSync(path.join(own, 'onnx/model.onnx'), q4);
    const imported = await m.importFolder(own, 'My model');
    expect(imported).toMatchObject({ id: 'my-model', kind: 'text', source: 'local' });
    expect((await m.verify('my-model')).ok).toBe(true);
    writeFileSync(path.join(own, 'onnx/model.onnx'), 'truncated');
    expect((await m.verify('my-model')).files.find((f) => f.path === 'onnx/model.onnx')?.problem).toMatch(/size/);
    expect(await m.remove('my-model')).toMatchObject({ filesDeleted: false });
    expect(existsSync(path.join(own, 'config.json'))).toBe(true);
  });
});

describe('cli commands', () => {
  it('pull prints progress on stderr and the model on stdout; verify and rm report by exit code', async () => {
    hub.faults.bytesPerSecond = 16 * 1024 * 1024;
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    const m = manager();
    expect(await modelsPullCommand(m, `${REPO}@main`, { files: '*.json,onnx/model.onnx', json: true }, io)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ id: ID, kind: 'text' });
    expect(err.some((l) => /^downloading acme\/tiny-chat@main \d+\.\d% .*\/s ETA/.test(l))).toBe(true);
    expect(err.at(-1)).toMatch(/^done .*100\.0%/);

    out.length = 0;
    expect(await modelsVerifyCommand(m, ID, { json: false }, io)).toBe(0);
    expect(out.join('')).toMatch(/^OK acme--tiny-chat@main: 3 file\(s\)/);
    writeFileSync(path.join(tmp, 'models', ID, 'config.json'), '{}');
    out.length = 0;
    expect(await modelsVerifyCommand(m, ID, { json: false }, io)).toBe(1);
    expect(out.join('')).toMatch(/BAD config\.json/);

    out.length = 0;
    expect(await modelsRemoveCommand(m, ID, { json: true }, io)).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({ id: ID, usedBy: 0, filesDeleted: true });
    expect(await modelsRemoveCommand(m, ID, { json: false }, io)).toBe(1);
    expect(err.at(-1)).toMatch(/MODEL_NOT_INSTALLED/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
