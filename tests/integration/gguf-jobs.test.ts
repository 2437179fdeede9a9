import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/studio';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

describe('GGUF text jobs through the supervised engine process', () => {
  let gguf = '';
  let studio: Studio;

  beforeAll(async () => {
    gguf = (await allFixtures()).ggufLlama;
    studio = await openStudio(tempDataDir('atelier-gguf-jobs-'));
  });

  afterAll(async () => {
    await studio?.close();
  });

  it('commits a generation with the llama.cpp provider, its timings and the backend in its params', async () => {
    const job = studio.queue.enqueue({ kind: 'text', params: { model: gguf, prompt: 'The keeper', temperature: 0, maxNewTokens: 16 } });
    const done = await studio.queue.waitFor(job.id);
    expect(done.state).toBe('done');
    const generation = studio.library.getGeneration(done.generationIds[0]!);
    // Automatic (the default): a GPU backend where one works, else the CPU with the reason recorded.
    expect(['cpu', 'cuda', 'vulkan', 'metal']).toContain(generation.provider);
    if (generation.provider === 'cpu') expect(generation.providerNote).toMatch(/GPU/);
    expect(generation.outputText!.length).toBeGreaterThan(0);
    expect(generation.timings['tokens']).toBe(16);
    expect(generation.timings['timeToFirstTokenMs']).toBeGreaterThan(0);
    expect(generation.params['meta']).toMatchObject({ backend: 'llama.cpp', stopReason: 'maxTokens' });
  });

  it('a cancel mid-generation keeps the text streamed so far as the generation of a cancelled job', async () => {
    // ~1000 tokens keep the tiny model busy for about a second; the cancel goes out at the first token.
    const job = studio.queue.enqueue({ kind: 'text', params: { model: gguf, prompt: 'Once', temperature: 0, maxNewTokens: 1000 } });
    let streamed = '';
    let cancelling: Promise<unknown> | null = null;
    const off = studio.events.subscribe((event, payload) => {
      if (event !== 'jobs.token') return;
      const token = payload as { jobId: string; text: string };
      if (token.jobId !== job.id) return;
      streamed += token.text;
      cancelling ??= studio.queue.cancel(job.id, false);
    });
    const ended = await studio.queue.waitFor(job.id);
    off();
    await cancelling;
    expect(ended.state).toBe('cancelled');
    expect(ended.generationIds).toHaveLength(1);
    const generation = studio.library.getGeneration(ended.generationIds[0]!);
    expect(generation.params['meta']).toMatchObject({ cancelled: true, stopReason: 'cancelled' });
    expect(generation.outputText!.startsWith(streamed)).toBe(true);
    expect(generation.timings['tokens']).toBeLessThan(1000);
  });
});
