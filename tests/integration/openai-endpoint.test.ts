import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAiServer, type OpenAiServer } from '../../src/main/openai/server';
import type { Studio } from '../../src/main/studio';
import { OpenAiClient } from '../../src/shared/openai-client';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

describe('Atelier\'s OpenAI-compatible endpoint, through the OpenAI client', () => {
  let studio: Studio;
  let server: OpenAiServer;
  let client: OpenAiClient;
  let modelId = '';
  const tokenCounts = new Map<string, number>();

  beforeAll(async () => {
    const { ggufLlama } = await allFixtures();
    const dataDir = tempDataDir('atelier-openai-');
    studio = await openStudio(dataDir);
    await studio.engine.configure({ provider: 'cpu', intraOpThreads: 1, memoryBudgetMb: 0 });
    modelId = (await studio.models.importFolder(ggufLlama, 'Tiny llama')).id;
    // A model file damaged after its import (the import itself would refuse it).
    const broken = path.join(dataDir, 'broken.gguf');
    writeFileSync(broken, readFileSync(ggufLlama).subarray(0, readFileSync(ggufLlama).length - 10_000));
    studio.library.upsertModel({ id: 'broken', kind: 'text', name: 'Broken', path: broken, bytes: 1, source: 'local' });
    studio.onEngineStream((message) => {
      if (message.type === 'token') tokenCounts.set(message.jobId, message.tokens);
    });
    server = await startOpenAiServer({
      textModels: () => studio.library.listModels().filter((m) => m.kind === 'text'),
      engine: studio.engine,
      onEngineStream: (listener) => studio.onEngineStream(listener),
      stagingDir: studio.layout.stagingDir,
    });
    client = new OpenAiClient({ baseUrl: server.url, allowInsecureHttp: true });
  });

  afterAll(async () => {
    await server?.close();
    await studio?.close();
  });

  it('lists the installed text models', async () => {
    expect((await client.listModels()).sort()).toEqual(['broken', modelId].sort());
  });

  it('streams a greedy completion that equals the same request answered whole, with finish reason and usage', async () => {
    const pieces: string[] = [];
    const streamed = await client.streamCompletion({ model: modelId, prompt: 'The lighthouse keeper', temperature: 0, maxTokens: 12 }, { onText: (t) => pieces.push(t) });
    expect(streamed.finishReason).toBe('length');
    expect(streamed.usage?.completionTokens).toBe(12);
    expect(streamed.usage?.promptTokens).toBeGreaterThan(0);
    expect(pieces.join('')).toBe(streamed.text);
    const whole = (await (
      await fetch(`${server.url}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: modelId, prompt: 'The lighthouse keeper', temperature: 0, max_tokens: 12 }) })
    ).json()) as { choices: { text: string; finish_reason: string }[] };
    expect(whole.choices[0]).toEqual({ index: 0, text: streamed.text, finish_reason: 'length' });
  });

  it('streams a chat completion through the model\'s chat template, seeded runs repeating', async () => {
    const request = { model: modelId, messages: [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Write about the sea.' }], temperature: 0.8, seed: 11, maxTokens: 10 };
    const first = await client.streamChat(request);
    const again = await client.streamChat(request);
    expect(first.finishReason).toBe('length');
    expect(first.text.length).toBeGreaterThan(0);
    expect(again.text).toBe(first.text);
    // the conversation went through the ChatML template: far more prompt tokens than its words
    expect(first.usage!.promptTokens).toBeGreaterThan(15);
  });

  it('stops the run in the engine when the client closes the stream, and serves the next request', async () => {
    const controller = new AbortController();
    const before = new Set(tokenCounts.keys());
    const result = await client.streamCompletion({ model: modelId, prompt: 'Once', temperature: 0, maxTokens: 1000 }, { signal: controller.signal, onText: () => controller.abort() });
    expect(result.finishReason).toBe('cancelled');
    await expect.poll(async () => (await studio.engine.request<{ running: string | null }>({ type: 'status' })).running, { timeout: 10_000 }).toBeNull();
    const jobs = [...tokenCounts.keys()].filter((id) => !before.has(id));
    expect(jobs).toHaveLength(1);
    expect(tokenCounts.get(jobs[0]!)).toBeLessThan(1000);
    const next = await client.streamCompletion({ model: modelId, prompt: 'Once', temperature: 0, maxTokens: 3 });
    expect(next.finishReason).toBe('length');
  });

  it('reports an engine error as an error in the stream, and keeps serving', async () => {
    await expect(client.streamChat({ model: 'broken', messages: [{ role: 'user', content: 'Hi' }], maxTokens: 4 })).rejects.toThrow(/error during generation: .*truncated/);
    await expect(client.streamChat({ model: 'nope', messages: [{ role: 'user', content: 'Hi' }] })).rejects.toMatchObject({ code: 'MODEL_NOT_INSTALLED' });
    expect((await client.streamCompletion({ model: modelId, prompt: 'Once', temperature: 0, maxTokens: 2 })).finishReason).toBe('length');
  });

  it('refuses what a web page could send: another Host (DNS rebinding) or a body that is not JSON', async () => {
    // fetch() may not set Host; a raw request can, as a DNS-rebinding page's browser would.
    const rebinding = await new Promise<number>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: server.port, path: '/v1/models', headers: { host: `evil.example.com:${server.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(rebinding).toBe(403);
    const simple = await fetch(`${server.url}/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ model: modelId, prompt: 'x' }) });
    expect(simple.status).toBe(415);
  });

  it('requires the API key when one is set', async () => {
    const guarded = await startOpenAiServer(
      { textModels: () => studio.library.listModels().filter((m) => m.kind === 'text'), engine: studio.engine, onEngineStream: (l) => studio.onEngineStream(l), stagingDir: studio.layout.stagingDir },
      { apiKey: 'sk-local' },
    );
    try {
      await expect(new OpenAiClient({ baseUrl: guarded.url, allowInsecureHttp: true }).listModels()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await new OpenAiClient({ baseUrl: guarded.url, allowInsecureHttp: true, apiKey: 'sk-local' }).listModels()).toContain(modelId);
    } finally {
      await guarded.close();
    }
  });
});
