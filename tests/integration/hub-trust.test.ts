import { createHash, randomBytes } from 'node:crypto';
import fs, { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelInspection } from '../../src/shared/engine-protocol';
import { StudioError } from '../../src/shared/errors';
import { openLibrary, type Library } from '../../src/main/library';
import { spawnNodeEngine } from '../../src/main/engine-host/spawn-node';
import { HubClient } from '../../src/main/models/hub-client';
import { HUB_TRUST_SETTING, setHubTrustPrompt, trustedHubOrigin } from '../../src/main/models/hub-trust';
import { ModelManager } from '../../src/main/models/manager';
import { createStudio } from '../../src/main/studio';
import { startFakeHub, type FakeHub } from './helpers/fake-hub';

const GATED = 'acme/gated-chat';
const TOKEN = 'hf_secret';
const files = [
  { path: 'config.json', content: Buffer.from('{"model_type":"llama"}') },
  { path: 'tokenizer.json', content: Buffer.from('{"version":"1.0"}') },
  { path: 'onnx/model.onnx', content: randomBytes(64 * 1024) },
];

async function acceptEverything(): Promise<ModelInspection> {
  return { kind: 'text', ok: true, problems: [], files: [], totalBytes: 0 };
}

async function rejection(promise: Promise<unknown>): Promise<StudioError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StudioError);
  return error as StudioError;
}

let hub: FakeHub;
let tmp: string;
let asked: string[];
const hubRequestsWithToken = (): FakeHub['requests'] => hub.requests.filter((r) => r.headers.authorization !== undefined);

beforeEach(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'atelier-trust-'));
  hub = await startFakeHub({ [GATED]: { files, gatedToken: TOKEN } });
  asked = [];
});

afterEach(async () => {
  setHubTrustPrompt(null);
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the hub token goes only to huggingface.co or a hub the user allowed', () => {
  let library: Library;
  beforeEach(() => {
    library = openLibrary(path.join(tmp, 'library'));
  });
  afterEach(() => library.close());

  const manager = (): ModelManager =>
    new ModelManager({ modelsDir: path.join(tmp, 'models'), library, validate: acceptEverything, hub: { endpoint: hub.endpoint, getToken: async () => TOKEN, retryDelayMs: 5 }, statfs: async () => ({ bavail: 1e9, bsize: 4096 }) });

  it('a fake hub on another loopback port that the user did not allow receives no Authorization header', async () => {
    setHubTrustPrompt(async (origin) => {
      asked.push(origin);
      return false;
    });
    const error = await rejection(manager().pull(GATED));
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain(`not sent to ${hub.endpoint}`);
    expect(asked).toEqual([hub.endpoint]);
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(hubRequestsWithToken()).toEqual([]);
    expect(trustedHubOrigin(library)).toBeNull();
  });

  it('once the user allows the hub, the token goes there (never to the CDN) and the answer is remembered for that origin', async () => {
    setHubTrustPrompt(async (origin) => {
      asked.push(origin);
      return true;
    });
    await manager().pull(GATED);
    expect(asked).toEqual([hub.endpoint]);
    expect(trustedHubOrigin(library)).toBe(hub.endpoint);
    expect(hub.requests.filter((r) => r.server === 'hub' && r.url.includes('/resolve/')).every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(hub.requests.filter((r) => r.server === 'cdn').length).toBeGreaterThan(0);
    expect(hub.requests.filter((r) => r.server === 'cdn' && r.headers.authorization !== undefined)).toEqual([]);
  });

  it('trust given to one origin does not cover another', async () => {
    library.setSetting(HUB_TRUST_SETTING, 'http://127.0.0.1:1');
    setHubTrustPrompt(async () => false);
    await rejection(manager().pull(GATED));
    expect(hubRequestsWithToken()).toEqual([]);
  });

  it('refuses a plain http endpoint on another machine with a clear message, without connecting', async () => {
    const client = new HubClient({ endpoint: 'http://hub.example.com', getToken: async () => TOKEN });
    const error = await rejection(client.listFiles(GATED, 'main'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/Plain http:\/\/ is refused for hub\.example\.com.*https:\/\/hub\.example\.com/);
  });
});

describe('the hub endpoint setting', () => {
  it('refuses plain http to another machine, and a changed endpoint drops the trust', async () => {
    const studio = await createStudio({ dataDir: tmp, mode: 'cli', spawnEngine: () => spawnNodeEngine(), tokens: { get: async () => TOKEN, set: async () => true } });
    try {
      const refused = await studio.dispatch('settings.set', { hubEndpoint: 'http://hub.example.com' }, { transport: 'websocket' });
      expect(refused.ok).toBe(false);
      if (!refused.ok) {
        expect(refused.error.code).toBe('INVALID_INPUT');
        expect(refused.error.message).toContain('Plain http:// is refused for hub.example.com');
      }
      // A client cannot write the trust itself: it is no setting of the contract.
      const smuggled = await studio.dispatch('settings.set', { [HUB_TRUST_SETTING]: hub.endpoint }, { transport: 'websocket' });
      expect(smuggled.ok).toBe(false);

      expect((await studio.dispatch('settings.set', { hubEndpoint: hub.endpoint }, { transport: 'ipc' })).ok).toBe(true);
      studio.library.setSetting(HUB_TRUST_SETTING, hub.endpoint);
      expect((await studio.dispatch('settings.set', { hubEndpoint: hub.endpoint }, { transport: 'ipc' })).ok).toBe(true);
      expect(trustedHubOrigin(studio.library)).toBe(hub.endpoint);
      const moved = hub.endpoint.replace('127.0.0.1', 'localhost');
      expect((await studio.dispatch('settings.set', { hubEndpoint: moved }, { transport: 'ipc' })).ok).toBe(true);
      expect(trustedHubOrigin(studio.library)).toBeNull();
    } finally {
      await studio.close();
    }
  });
});

describe('hub file names', () => {
  const UNSAFE = ['..\\evil', 'C:\\x', '/etc/x', 'a/../../b', 'CON', 'x\0y'];

  it.each(UNSAFE)('refuses %j and writes nothing', async (name) => {
    await hub.close();
    hub = await startFakeHub({ 'acme/evil': { files: [{ path: 'config.json', content: Buffer.from('{}') }, { path: name, content: Buffer.from('pwned') }] } });
    const library = openLibrary(path.join(tmp, 'library'));
    try {
      const m = new ModelManager({ modelsDir: path.join(tmp, 'models'), library, validate: acceptEverything, hub: new HubClient({ endpoint: hub.endpoint, retryDelayMs: 5 }), statfs: async () => ({ bavail: 1e9, bsize: 4096 }) });
      const error = await rejection(m.pull('acme/evil'));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain('unsafe file name');
      expect(hub.requests.filter((r) => r.url.includes('/resolve/'))).toEqual([]);
      const filesDir = path.join(tmp, 'models', '.downloads', 'acme--evil@main', 'files');
      expect(existsSync(filesDir) ? readdirSync(filesDir) : []).toEqual([]);
      expect(existsSync(path.join(tmp, 'evil'))).toBe(false);
      expect(library.listModels()).toEqual([]);
    } finally {
      library.close();
    }
  });

  it('refuses an unsafe name in a direct download before touching the disk', async () => {
    const client = new HubClient({ endpoint: hub.endpoint });
    const content = Buffer.from('pwned');
    const sha = createHash('sha256').update(content).digest('hex');
    const target = path.join(tmp, 'x');
    const error = await rejection(client.downloadFile(GATED, 'main', { path: '..\\evil', size: 5, oid: '', sha256: sha }, target));
    expect(error.code).toBe('INVALID_INPUT');
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('download ids from clients', () => {
  it('an id that is not of the form owner--name@revision never becomes a path', async () => {
    const library = openLibrary(path.join(tmp, 'library'));
    try {
      const m = new ModelManager({ modelsDir: path.join(tmp, 'models'), library, validate: acceptEverything, hub: new HubClient({ endpoint: hub.endpoint }) });
      // A folder that looks like a download one level up: cancel would delete it if the id were joined as given.
      const bait = path.join(tmp, 'models', 'bait');
      fs.mkdirSync(bait, { recursive: true });
      fs.writeFileSync(path.join(bait, 'manifest.json'), JSON.stringify({ version: 1, id: '../bait', repo: 'a/b', revision: 'main', commit: null, name: 'b', patterns: null, status: 'paused', files: null, createdAt: 1 }));
      for (const id of ['../bait', '..', 'a--b@main/../../bait', 'a--b@main\\..\\..\\bait']) {
        expect((await rejection(m.cancel(id))).code).toBe('INVALID_INPUT');
        expect((await rejection(m.resume(id))).code).toBe('INVALID_INPUT');
      }
      expect(fs.existsSync(path.join(bait, 'manifest.json'))).toBe(true);
    } finally {
      library.close();
    }
  });
});
