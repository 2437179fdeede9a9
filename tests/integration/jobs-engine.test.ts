import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/studio';
import type { ImageParams, TextParams } from '../../src/shared/params';
import { allFixtures, firstProgress, openStudio, tempDataDir } from './helpers/studio-fixtures';

type Fixtures = Awaited<ReturnType<typeof allFixtures>>;

describe('jobs through the supervised engine process', () => {
  let fx: Fixtures;
  let studio: Studio;

  // A long image job: 1024×1024 with many steps keeps the engine busy for a few seconds.
  const longImage = (): { kind: 'image'; params: ImageParams } => ({
    kind: 'image',
    params: { model: fx.images.imageOracle, prompt: 'a long job', negativePrompt: '', width: 1024, height: 1024, steps: 150, guidance: 7, scheduler: 'euler', seed: 1, batch: 1, strength: 0.75 },
  });
  const quickText = (): { kind: 'text'; params: TextParams } => ({
    kind: 'text',
    params: { model: fx.textOracle, prompt: 'Tell me a story.', action: 'continue', maxNewTokens: 40, temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 },
  });

  beforeAll(async () => {
    fx = await allFixtures();
    studio = await openStudio(tempDataDir());
  });

  afterAll(async () => {
    await studio?.close();
  });

  it('runs a text job and commits its generation with the provider that ran', async () => {
    const job = studio.queue.enqueue(quickText());
    const done = await studio.queue.waitFor(job.id);
    expect(done.state).toBe('done');
    const generation = studio.library.getGeneration(done.generationIds[0]);
    const oracle = JSON.parse(readFileSync(path.join(fx.textOracle, 'oracle.json'), 'utf8')) as { sentence: string };
    expect(generation.outputText).toBe(oracle.sentence);
    expect(generation.provider).toBe('cpu');
    expect(generation.assets.map((a) => a.role)).toContain('text');
  });

  it('ends a job as ENGINE_CRASHED within 2 s when the engine is killed, and the next job succeeds', async () => {
    const job = studio.queue.enqueue(longImage());
    await firstProgress(studio, job.id);
    const killedAt = Date.now();
    process.kill(studio.engine.pid!, 'SIGKILL');
    const ended = await studio.queue.waitFor(job.id);
    expect(Date.now() - killedAt).toBeLessThan(2000);
    expect(ended.state).toBe('failed');
    expect(ended.error?.code).toBe('ENGINE_CRASHED');
    expect(ended.error?.message).toMatch(/SIGKILL/);
    const next = await studio.queue.waitFor(studio.queue.enqueue(quickText()).id);
    expect(next.state).toBe('done');
  });

  it('cancels a running job before its next step', async () => {
    const job = studio.queue.enqueue(longImage());
    await firstProgress(studio, job.id, 2);
    // The engine answers the cancel once it has aborted the run; from then on at most the step
    // already in flight may still report.
    await studio.queue.cancel(job.id, false);
    let stepsAfterCancel = 0;
    const off = studio.events.subscribe((event, payload) => {
      if (event === 'jobs.progress' && (payload as { jobId: string }).jobId === job.id) stepsAfterCancel++;
    });
    const ended = await studio.queue.waitFor(job.id);
    off();
    expect(ended.state).toBe('cancelled');
    expect(ended.generationIds).toEqual([]);
    // The step in flight may still report; no further step starts.
    expect(stepsAfterCancel).toBeLessThanOrEqual(1);
  });

  it('hard-cancels within 1 s by restarting the engine', async () => {
    const job = studio.queue.enqueue(longImage());
    await firstProgress(studio, job.id);
    const pid = studio.engine.pid;
    const t0 = Date.now();
    await studio.queue.cancel(job.id, true);
    const ended = await studio.queue.waitFor(job.id);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ended.state).toBe('cancelled');
    expect(studio.engine.pid).not.toBe(pid);
    expect((await studio.queue.waitFor(studio.queue.enqueue(quickText()).id)).state).toBe('done');
  });

  it('fails the job with the reason when CUDA is forced but unavailable, instead of running it on the CPU', async () => {
    const set = await studio.dispatch('settings.set', { provider: 'cuda' }, { transport: 'cli' });
    expect(set.ok).toBe(true);
    const job = studio.queue.enqueue({ ...longImage(), params: { ...longImage().params, width: 64, height: 64, steps: 2 } });
    const ended = await studio.queue.waitFor(job.id);
    await studio.dispatch('settings.set', { provider: 'auto' }, { transport: 'cli' });
    expect(ended.state).toBe('failed');
    expect(ended.generationIds).toEqual([]);
    expect(ended.error?.code).toBe('PROVIDER_UNAVAILABLE');
    expect(ended.error?.message).toMatch(/CUDA unavailable: .+/);
    expect(ended.error?.message).toContain('Settings → Performance → Execution provider');
    // Back on the automatic chain the same job falls back to the CPU and says why.
    const retry = await studio.queue.waitFor(studio.queue.enqueue({ ...longImage(), params: { ...longImage().params, width: 64, height: 64, steps: 2 } }).id);
    expect(retry.state).toBe('done');
    expect(studio.library.getGeneration(retry.generationIds[0]).provider).toBe('cpu');
  });

  it('runs queued jobs by priority after a reorder, and starts none while paused', async () => {
    studio.queue.setPaused(true);
    const a = studio.queue.enqueue(quickText());
    const b = studio.queue.enqueue(quickText());
    const c = studio.queue.enqueue(quickText());
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(studio.queue.list(10).filter((j) => [a.id, b.id, c.id].includes(j.id)).every((j) => j.state === 'queued')).toBe(true);
    studio.queue.reorder(c.id, 5);
    studio.queue.setPaused(false);
    const done = await Promise.all([a, b, c].map((j) => studio.queue.waitFor(j.id)));
    const started = Object.fromEntries(done.map((j) => [j.id, j.startedAt ?? 0]));
    expect(started[c.id]).toBeLessThan(started[a.id]);
    expect(started[a.id]).toBeLessThan(started[b.id]);
  });

  it('refuses a model path from the renderer, naming what to do', async () => {
    const result = await studio.dispatch('jobs.start', quickText(), { transport: 'websocket' });
    expect(result).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_INSTALLED' } });
  });
});
