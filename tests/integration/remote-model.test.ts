import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAiServer, type OpenAiServer } from '../../src/main/openai/server';
import type { Studio } from '../../src/main/studio';
import { OpenAiClient } from '../../src/shared/openai-client';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/**
 * A text engine on another machine: one Atelier serves a GGUF model on its OpenAI-compatible
 * endpoint (standing in for vLLM, llama.cpp's server, Ollama or LM Studio); a second Atelier, with
 * its own library, registers that server's model and writes with it from the command line.
 */
describe('a text model on an OpenAI-compatible server', () => {
  let serverStudio: Studio;
  let server: OpenAiServer;
  let servedId = '';
  const library = tempDataDir('atelier-remote-client-');

  const atelier = (args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), ...args, '--library', library, '--json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const fails = async (args: string[]) => {
    try {
      await atelier(args);
    } catch (error) {
      return error as { code: number; stderr: string };
    }
    throw new Error('should have failed');
  };

  beforeAll(async () => {
    const { ggufLlama } = await allFixtures();
    serverStudio = await openStudio(tempDataDir('atelier-remote-server-'));
    await serverStudio.engine.configure({ provider: 'cpu', intraOpThreads: 1, memoryBudgetMb: 0 });
    servedId = (await serverStudio.models.importFolder(ggufLlama, 'Tiny llama')).id;
    server = await startOpenAiServer({
      textModels: () => serverStudio.library.listModels().filter((m) => m.kind === 'text'),
      engine: serverStudio.engine,
      onEngineStream: (listener) => serverStudio.onEngineStream(listener),
      stagingDir: serverStudio.layout.stagingDir,
    });
  });

  afterAll(async () => {
    await server?.close();
    await serverStudio?.close();
  });

  it('refuses plain http without the confirmation, and a model the server does not offer', async () => {
    const unconfirmed = await fails(['models', 'add-remote', '--base-url', server.url, '--remote-model', servedId]);
    expect(unconfirmed.stderr).toMatch(/plain http.*--allow-http.*\[FORBIDDEN\]/);
    const unknown = await fails(['models', 'add-remote', '--base-url', server.url, '--remote-model', 'nope', '--allow-http']);
    expect(unknown.stderr).toMatch(/This remote model is not a model Atelier can run: .* does not offer a model named "nope"; it offers: tiny-llama/);
  });

  it('registers the server\'s model and streams a generation from it, recorded with the server as its provider', async () => {
    const registered = JSON.parse((await atelier(['models', 'add-remote', '--base-url', server.url, '--remote-model', servedId, '--allow-http', '--name', 'Tiny on the server'])).stdout) as { id: string; kind: string };
    expect(registered).toMatchObject({ id: 'tiny-on-the-server', kind: 'text' });
    const written = JSON.parse((await atelier(['generate', 'text', '--model', registered.id, '--prompt', 'The lighthouse keeper', '--temperature', '0', '--max-new-tokens', '10'])).stdout) as { text: string; tokens: number; provider: string };
    const direct = await new OpenAiClient({ baseUrl: server.url, allowInsecureHttp: true }).streamCompletion({ model: servedId, prompt: 'The lighthouse keeper', temperature: 0, maxTokens: 10 });
    expect(written.text).toBe(direct.text);
    expect(written.tokens).toBe(10);
    expect(written.provider).toBe('remote');
  });
});
