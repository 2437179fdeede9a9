import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyLlamaGguf } from '../../scripts/fixtures/gguf';
import { isGgufModelPath } from '../../src/engine/gguf/files';
import { inspectGguf } from '../../src/engine/gguf/inspect';
import { inspectModelDir } from '../../src/engine/runtime/layout';
import { openLibrary, type Library } from '../../src/main/library';
import { parseCatalog } from '../../src/main/models/catalog';
import { modelsPullCommand } from '../../src/main/models/cli';
import { listHubGgufQuants } from '../../src/main/models/gguf-pull';
import { HubClient } from '../../src/main/models/hub-client';
import { ModelManager } from '../../src/main/models/manager';
import { startFakeHub, type FakeHub } from './helpers/fake-hub';

const REPO = 'acme/tiny-llama-GGUF';
const f16 = buildTinyLlamaGguf(undefined, 'f16');
const q8 = buildTinyLlamaGguf(undefined, 'q8_0');
const part1 = Buffer.alloc(3000, 1);
const part2 = Buffer.alloc(2000, 2);

describe('picking a GGUF quantisation from the hub', () => {
  let hub: FakeHub;
  let tmp: string;
  let library: Library;
  let models: ModelManager;

  beforeAll(async () => {
    hub = await startFakeHub({
      [REPO]: {
        files: [
          { path: 'README.md', content: Buffer.from('# tiny llama GGUF\n') },
          { path: 'tiny-llama-F16.gguf', content: f16 },
          { path: 'tiny-llama-Q8_0.gguf', content: q8 },
          { path: 'Q4_K_M/tiny-llama-Q4_K_M-00001-of-00002.gguf', content: part1 },
          { path: 'Q4_K_M/tiny-llama-Q4_K_M-00002-of-00002.gguf', content: part2 },
        ],
      },
    });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'atelier-gguf-quant-'));
    library = openLibrary(path.join(tmp, 'library'));
    const catalog = parseCatalog({
      version: 1,
      models: [
        {
          id: 'tiny-llama-gguf', format: 'gguf', kind: 'text', repo: REPO, revision: 'main', verified: false, verificationNote: 'not verified',
          title: 'Tiny llama (GGUF)', goodFor: 'tests', licence: { id: 'mit', url: 'https://example.com' }, hardware: 'any',
          defaultQuant: 'Q8_0', quants: { Q8_0: { approxBytes: 1000 }, F16: { approxBytes: 2000 } },
        },
      ],
    });
    models = new ModelManager({
      modelsDir: path.join(tmp, 'models'),
      library,
      validate: async (dir) => (isGgufModelPath(dir) ? inspectGguf(dir) : inspectModelDir(dir)),
      hub: new HubClient({ endpoint: hub.endpoint, retryDelayMs: 5 }),
      catalog,
      statfs: async () => ({ bavail: 1e9, bsize: 4096 }),
    });
  });

  afterAll(async () => {
    library?.close();
    await hub?.close();
  });

  it('lists the quantisations with the sizes the hub reports, the split one unsupported', async () => {
    const list = await listHubGgufQuants(models.hub, REPO, 'main');
    expect(list.quants.map((q) => ({ quant: q.quant, bytes: q.bytes, supported: q.supported }))).toEqual(
      [
        { quant: 'Q4_K_M', bytes: part1.length + part2.length, supported: false },
        { quant: 'Q8_0', bytes: q8.length, supported: true },
        { quant: 'F16', bytes: f16.length, supported: true },
      ].sort((a, b) => a.bytes - b.bytes),
    );
    // The split Q4_K_M cannot be the default: the next best single file is.
    expect(list.defaultFile).toBe('tiny-llama-Q8_0.gguf');
  });

  it('downloads only the quantisation asked for (--quant), verified, and registers it', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await modelsPullCommand(models, REPO, { quant: 'f16', json: true }, { out: (t) => void out.push(t), err: (t) => void err.push(t) });
    expect(err.join('')).not.toMatch(/error/);
    expect(code).toBe(0);
    const model = JSON.parse(out.join('')) as { id: string; path: string; kind: string };
    expect(model.kind).toBe('text');
    expect(readdirSync(model.path).filter((n) => n.endsWith('.gguf'))).toEqual(['tiny-llama-F16.gguf']);
    expect(readFileSync(path.join(model.path, 'tiny-llama-F16.gguf')).equals(f16)).toBe(true);
    expect((await models.verify(model.id)).ok).toBe(true);
    // Another quantisation of an installed repository is refused with what to do, not answered with this one.
    await expect(models.pull(REPO, { quant: 'Q8_0' })).rejects.toThrow(/installed with another quantisation.*remove it in the Models view first to download Q8_0/);
    expect((await models.pull(REPO, { quant: 'F16' })).id).toBe(model.id);
    // Nothing of the other quantisations was fetched.
    expect(hub.requests.some((r) => /Q8_0|Q4_K_M/.test(r.url) && r.url.includes('/resolve/'))).toBe(false);
    await models.remove(model.id);
  });

  it('a catalog GGUF entry without a quantisation downloads its default one', async () => {
    const model = await models.pull(REPO);
    expect(readdirSync(model.path).filter((n) => n.endsWith('.gguf'))).toEqual(['tiny-llama-Q8_0.gguf']);
    await models.remove(model.id);
  });

  it('refuses a split or missing quantisation before anything is downloaded, saying what is offered', async () => {
    await expect(models.pull(REPO, { quant: 'Q4_K_M' })).rejects.toThrow(/Q4_K_M of acme\/tiny-llama-GGUF cannot be downloaded: split into 2 files.*Pick one of: Q8_0, F16/);
    await expect(models.pull(REPO, { quant: 'Q2_K' })).rejects.toThrow(/has no Q2_K quantisation; it offers Q8_0, F16/);
    expect(existsSync(path.join(tmp, 'models', '.downloads', 'acme--tiny-llama-GGUF@main'))).toBe(false);
  });
});
