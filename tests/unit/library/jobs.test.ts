import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestLibrary, type TestLibrary } from './helpers';

let t: TestLibrary;
beforeEach(() => {
  t = createTestLibrary();
});
afterEach(() => t.cleanup());

const params = { model: 'tiny', prompt: 'hi' };

describe('jobs', () => {
  it('hands out queued jobs by priority, then first come first served', () => {
    const low = t.library.insertJob({ kind: 'text', params });
    const high = t.library.insertJob({ kind: 'image', params, priority: 5 });
    const low2 = t.library.insertJob({ kind: 'music', params });
    expect(t.library.nextQueuedJob()?.id).toBe(high.id);
    t.library.updateJob(high.id, { state: 'running' });
    expect(t.library.nextQueuedJob()?.id).toBe(low.id);
    t.library.reorderJob(low2.id, 1);
    expect(t.library.nextQueuedJob()?.id).toBe(low2.id);
  });

  it('records progress, start and finish times, errors and generation ids', () => {
    const job = t.library.insertJob({ kind: 'image', params, totalSteps: 20 });
    expect(job).toMatchObject({ state: 'queued', progress: 0, totalSteps: 20, startedAt: null, finishedAt: null, generationIds: [], error: null });
    const running = t.library.updateJob(job.id, { state: 'running', step: 5, progress: 0.25 });
    expect(running.startedAt).not.toBeNull();
    const done = t.library.updateJob(job.id, { state: 'done', progress: 1, generationIds: ['g1', 'g2'] });
    expect(done).toMatchObject({ state: 'done', progress: 1, step: 5, generationIds: ['g1', 'g2'], startedAt: running.startedAt });
    expect(done.finishedAt).not.toBeNull();
    const failed = t.library.updateJob(t.library.insertJob({ kind: 'text', params }).id, { state: 'failed', error: { code: 'ENGINE_CRASHED', message: 'boom' } });
    expect(failed.error).toEqual({ code: 'ENGINE_CRASHED', message: 'boom' });
    expect(() => t.library.updateJob(job.id, { progress: 2 })).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => t.library.updateJob('missing', { state: 'done' })).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('marks jobs that were running when the app died as interrupted at the next start', () => {
    const running = t.library.insertJob({ kind: 'image', params });
    const queued = t.library.insertJob({ kind: 'image', params });
    t.library.updateJob(running.id, { state: 'running', step: 3 });
    const library = t.reopen();
    expect(library.markRunningInterrupted()).toEqual([running.id]);
    expect(library.getJob(running.id)).toMatchObject({ state: 'interrupted', step: 3, error: { code: 'ENGINE_CRASHED' } });
    expect(library.getJob(queued.id).state).toBe('queued');
    expect(library.nextQueuedJob()?.id).toBe(queued.id);
  });

  it('lists jobs newest first, optionally by state', () => {
    const a = t.library.insertJob({ kind: 'text', params });
    const b = t.library.insertJob({ kind: 'text', params });
    t.library.updateJob(a.id, { state: 'cancelled' });
    expect(t.library.listJobs().map((j) => j.id)).toEqual([b.id, a.id]);
    expect(t.library.listJobs({ states: ['queued'] }).map((j) => j.id)).toEqual([b.id]);
    expect(t.library.listJobs({ limit: 1 })).toHaveLength(1);
  });
});

describe('installed models and settings', () => {
  it('upserts, lists, gets and removes installed models', () => {
    t.library.upsertModel({ id: 'sd-turbo', kind: 'image', name: 'SD Turbo', path: '/m/sd', bytes: 10, source: 'hub', digest: 'abc' });
    t.library.upsertModel({ id: 'gpt2', kind: 'text', name: 'GPT-2', path: '/m/gpt2', bytes: 5, source: 'local' });
    const updated = t.library.upsertModel({ id: 'sd-turbo', kind: 'image', name: 'SD Turbo v2', path: '/m/sd2', bytes: 11, source: 'hub' });
    expect(updated).toMatchObject({ name: 'SD Turbo v2', path: '/m/sd2', digest: null });
    expect(t.library.listModels().map((m) => m.id)).toEqual(['sd-turbo', 'gpt2']);
    expect(t.library.listModels('text').map((m) => m.id)).toEqual(['gpt2']);
    expect(t.library.removeModel('gpt2')).toBe(true);
    expect(t.library.findModel('gpt2')).toBeNull();
    expect(() => t.library.getModel('gpt2')).toThrowError(expect.objectContaining({ code: 'MODEL_NOT_INSTALLED' }));
  });

  it('stores settings as JSON values and deletes on undefined', () => {
    expect(t.library.getSetting('theme')).toBeUndefined();
    t.library.setSetting('theme', 'dark');
    t.library.setSetting('panelSizes', { inspector: 30 });
    expect(t.library.getSetting('theme')).toBe('dark');
    expect(t.reopen().listSettings()).toEqual({ theme: 'dark', panelSizes: { inspector: 30 } });
    t.library.setSetting('theme', undefined);
    expect(t.library.getSetting('theme')).toBeUndefined();
  });
});
