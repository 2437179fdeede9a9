import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyLlamaGguf } from '../../scripts/fixtures/gguf';
import { isGgufModelPath } from '../../src/engine/gguf/files';
import { generateGgufText, unloadGgufModels } from '../../src/engine/gguf/generate';
import { inspectGguf } from '../../src/engine/gguf/inspect';
import { createEngineContext } from '../../src/engine/runtime/context';
import { inspectModelDir } from '../../src/engine/runtime/layout';
import { openLibrary, type Library } from '../../src/main/library';
import { HubClient } from '../../src/main/models/hub-client';
import { ModelManager } from '../../src/main/models/manager';
import { TextParams } from '../../src/shared/params';
import { startFakeHub, type FakeHub } from './helpers/fake-hub';

const REPO = 'acme/tiny-llama-GGUF';

describe('GGUF quantisations from the hub', () => {
  let hub: FakeHub;
  let tmp: string;
  let library: Library;
  let models: ModelManager;
  const ctx = createEngineContext({ provider: 'cpu', intraOpThreads: 1 });

  beforeAll(async () => {
    hub = await startFakeHub({
      [REPO]: {
        files: [
          { path: 'README.md', content: Buffer.from('# tiny llama GGUF\n') },
          { path: 'tiny-llama-F16.gguf', content: buildTinyLlamaGguf(undefined, 'f16') },
          { path: 'tiny-llama-Q8_0.gguf', content: buildTinyLlamaGguf(undefined, 'q8_0') },
        ],
      },
    });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'atelier-gguf-pull-'));
    library = openLibrary(path.join(tmp, 'library'));
    models = new ModelManager({
      modelsDir: path.join(tmp, 'models'),
      library,
      // what the engine's inspect request does
      validate: async (dir) => (isGgufModelPath(dir) ? inspectGguf(dir) : inspectModelDir(dir)),
      hub: new HubClient({ endpoint: hub.endpoint, retryDelayMs: 5 }),
      statfs: async () => ({ bavail: 1e9, bsize: 4096 }),
    });
  });

  afterAll(async () => {
    await unloadGgufModels(ctx);
    library?.close();
    await hub?.close();
  });

  it('downloads one quantisation picked by file pattern, verifies it, registers it and generates with it', async () => {
    const model = await models.pull(REPO, { files: ['*Q8_0.gguf'] });
    expect(model.kind).toBe('text');
    expect(readFileSync(path.join(model.path, 'tiny-llama-Q8_0.gguf')).equals(buildTinyLlamaGguf(undefined, 'q8_0'))).toBe(true);
    expect((await models.verify(model.id)).ok).toBe(true);
    const result = await generateGgufText(model.path, TextParams.parse({ model: model.id, prompt: 'The keeper', temperature: 0, maxNewTokens: 6 }), { ctx, hooks: { signal: new AbortController().signal, onProgress: () => undefined }, outDir: path.join(tmp, 'out') });
    expect(result.tokens).toBe(6);
    expect(result.meta?.['fileType']).toBe('MOSTLY_Q8_0');
  });

  it('refuses a download holding several quantisations, saying to pick one', async () => {
    await models.remove(models.list()[0]!.id);
    await expect(models.pull(REPO, { files: ['*.gguf'] })).rejects.toThrow(/several GGUF models.*tiny-llama-F16\.gguf.*tiny-llama-Q8_0\.gguf/);
  });
});
