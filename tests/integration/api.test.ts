import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/studio';
import { openStudio, tempDataDir } from './helpers/studio-fixtures';

/** The handlers of src/main/api.ts through the real dispatcher, as a renderer would call them. */
describe('api', () => {
  let studio: Studio;
  const progress: unknown[] = [];
  let off: () => void = () => {};

  beforeAll(async () => {
    studio = await openStudio(tempDataDir());
    off = studio.events.subscribe((event, payload) => {
      if (event === 'models.progress') progress.push(payload);
    });
  });

  afterAll(async () => {
    off();
    await studio?.close();
  });

  describe('settings', () => {
    it('saves a setting and answers it even when another version stored a value this one refuses', async () => {
      // As if written by a version that knew a provider this one does not.
      studio.library.setSetting('provider', 'directml');
      const set = await studio.dispatch('settings.set', { theme: 'dark' }, { transport: 'websocket' });
      expect(set).toMatchObject({ ok: true, value: { theme: 'dark', provider: 'auto' } });
      expect(await studio.dispatch('settings.get', {}, { transport: 'websocket' })).toMatchObject({ ok: true, value: { theme: 'dark', provider: 'auto' } });
    });
  });

  describe('models', () => {
    it('answers a pull that fails before it starts with the reason, instead of a download id that never reports', async () => {
      progress.length = 0;
      const result = await studio.dispatch('models.pull', { repo: 'someone/not-in-the-catalog', dtype: 'q4' }, { transport: 'websocket' });
      expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringContaining('not in the catalog') } });
      expect(progress).toEqual([]);
    });

    it('answers a resume of a download that does not exist with NOT_FOUND', async () => {
      const result = await studio.dispatch('models.resume', { downloadId: 'nobody--nothing@main' }, { transport: 'websocket' });
      expect(result).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', message: expect.stringContaining('nobody--nothing@main') } });
    });
  });
});
