import { afterEach, describe, expect, it } from 'vitest';
import { createTestLibrary, type TestLibrary } from './helpers';

describe('committing a generation together with its job', () => {
  let t: TestLibrary;
  afterEach(() => t?.cleanup());

  it('marks the job done in the same transaction as the generation rows', async () => {
    t = createTestLibrary();
    const job = t.library.insertJob({ kind: 'image', params: { model: 'm', prompt: 'p' } });
    t.library.updateJob(job.id, { state: 'running' });
    const generation = await t.library.commitGeneration(
      { kind: 'image', model: 'm', prompt: 'p', files: [{ sourcePath: t.scratch('a.png', 'pixels'), mime: 'image/png', role: 'image' }, { sourcePath: t.scratch('a.webp', 'thumb'), mime: 'image/webp', role: 'thumbnail' }] },
      { alsoInTransaction: (id) => t.library.updateJob(job.id, { state: 'done', progress: 1, generationIds: [id] }) },
    );
    expect(t.library.getJob(job.id)).toMatchObject({ state: 'done', generationIds: [generation.id] });
    expect(generation.assets.map((a) => a.role).sort()).toEqual(['image', 'thumbnail']);
  });

  it('leaves neither the generation nor the job change when the job update fails', async () => {
    t = createTestLibrary();
    const job = t.library.insertJob({ kind: 'text', params: { model: 'm', prompt: 'p' } });
    t.library.updateJob(job.id, { state: 'running' });
    await expect(
      t.library.commitGeneration({ kind: 'text', model: 'm', prompt: 'p', outputText: 'x' }, {
        alsoInTransaction: () => {
          t.library.updateJob(job.id, { state: 'done' });
          throw new Error('disk went away');
        },
      }),
    ).rejects.toThrow('disk went away');
    expect(t.library.listGenerations({}).total).toBe(0);
    expect(t.library.getJob(job.id).state).toBe('running');
  });
});
