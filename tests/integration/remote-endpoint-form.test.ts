import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNodeEngine } from '../../src/main/engine-host/spawn-node';
import { startOpenAiServer, type OpenAiServer } from '../../src/main/openai/server';
import { remoteKeyName, type SecretStore } from '../../src/main/secrets';
import { createStudio, type Studio } from '../../src/main/studio';
import type { CallName } from '../../src/shared/contract';
import type { RunResult } from '../../src/shared/engine-protocol';
import { TextParams } from '../../src/shared/params';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

const KEY = 'sk-test-0123456789';

/** A keychain stand-in: what the desktop app's safeStorage store keeps, in memory. */
function memorySecrets(): SecretStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: async (name) => values.get(name) ?? null,
    set: async (name, value) => void (value ? values.set(name, value) : values.delete(name)),
  };
}

async function call(studio: Studio, name: CallName, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }> {
  return (await studio.dispatch(name, input, { transport: 'ipc' })) as { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };
}

/**
 * Settings → Text servers: one Atelier serves a GGUF model on its OpenAI-compatible endpoint,
 * behind an API key; a second one tests the server, adds its model with the key (kept in the secret
 * store, never in the description file) and writes with it, also after a restart.
 */
describe('adding an OpenAI-compatible server with an API key', () => {
  let serverStudio: Studio;
  let server: OpenAiServer;
  let servedId = '';
  const secrets = memorySecrets();
  const dataDir = tempDataDir('atelier-remote-form-');
  let client: Studio | undefined;

  beforeAll(async () => {
    const { ggufLlama } = await allFixtures();
    serverStudio = await openStudio(tempDataDir('atelier-remote-form-server-'));
    await serverStudio.engine.configure({ provider: 'cpu', intraOpThreads: 1, memoryBudgetMb: 0 });
    servedId = (await serverStudio.models.importFolder(ggufLlama, 'Tiny llama')).id;
    server = await startOpenAiServer(
      {
        textModels: () => serverStudio.library.listModels().filter((m) => m.kind === 'text'),
        engine: serverStudio.engine,
        onEngineStream: (listener) => serverStudio.onEngineStream(listener),
        stagingDir: serverStudio.layout.stagingDir,
      },
      { apiKey: KEY },
    );
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await serverStudio?.close();
  });

  it('Test lists the models only with the key, and plain http only after the confirmation', async () => {
    client = await createStudio({ dataDir, mode: 'browser', spawnEngine: () => spawnNodeEngine(), secrets });
    const unconfirmed = await call(client, 'models.testRemote', { baseUrl: server.url, apiKey: KEY });
    expect(unconfirmed).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/plain http.*Allow plain http/) } });
    const publicHttp = await call(client, 'models.testRemote', { baseUrl: 'http://example.com/v1', allowHttp: true });
    expect(publicHttp).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringMatching(/public address: use https/) } });
    const withoutKey = await call(client, 'models.testRemote', { baseUrl: server.url, allowHttp: true });
    expect(withoutKey.ok).toBe(false);
    expect(await call(client, 'models.testRemote', { baseUrl: server.url, allowHttp: true, apiKey: KEY })).toEqual({ ok: true, value: { models: [servedId] } });
  });

  it('adds the model with its key kept in the secret store (not the file), and the engine writes with it after a restart', async () => {
    const added = await call(client!, 'models.addRemote', { baseUrl: server.url, allowHttp: true, apiKey: KEY, model: servedId, name: 'Tiny over there' });
    expect(added).toMatchObject({ ok: true, value: { id: 'tiny-over-there', kind: 'text' } });
    const model = (added as { value: { path: string } }).value;
    expect(secrets.values.get(remoteKeyName(server.url))).toBe(KEY);
    expect(readFileSync(model.path, 'utf8')).not.toContain(KEY);

    // A second model by the same name is refused; the first description stays as it was.
    const again = await call(client!, 'models.addRemote', { baseUrl: server.url, allowHttp: true, model: servedId, name: 'Tiny over there' });
    expect(again).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringMatching(/already set up/) } });
    expect(existsSync(model.path)).toBe(true);

    await client!.close();
    client = await createStudio({ dataDir, mode: 'browser', spawnEngine: () => spawnNodeEngine(), secrets });
    const params = TextParams.parse({ model: 'tiny-over-there', prompt: 'The keeper', temperature: 0, maxNewTokens: 4 });
    const result = await client.engine.request<RunResult>({ type: 'run', jobId: 'remote-key', modelDir: model.path, outDir: path.join(dataDir, 'out'), run: { kind: 'text', params } });
    expect(result.provider).toBe('remote');
    expect(result.tokens).toBe(4);
  });

  it('keeps a server\'s key while a model of that server is installed, and forgets it with the last one', async () => {
    const second = await call(client!, 'models.addRemote', { baseUrl: server.url, allowHttp: true, model: servedId, name: 'Tiny again' });
    expect(second).toMatchObject({ ok: true, value: { id: 'tiny-again' } });
    expect(await call(client!, 'models.remove', { id: 'tiny-again' })).toMatchObject({ ok: true });
    expect(secrets.values.get(remoteKeyName(server.url))).toBe(KEY);
    expect(await call(client!, 'models.remove', { id: 'tiny-over-there' })).toMatchObject({ ok: true });
    expect(secrets.values.has(remoteKeyName(server.url))).toBe(false);
  });

  it('without a keychain (browser mode, CLI) a key is refused with what to do, and nothing is left behind', async () => {
    const plain = await openStudio(tempDataDir('atelier-remote-form-nokeys-'), 'browser');
    try {
      const refused = await call(plain, 'models.addRemote', { baseUrl: server.url, allowHttp: true, apiKey: KEY, model: servedId });
      expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN', message: expect.stringMatching(/does not store API keys.*--api-key-env/) } });
      expect(readdirSync(path.join(plain.layout.modelsDir, 'remote'))).toEqual([]);
      expect(plain.library.listModels()).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
