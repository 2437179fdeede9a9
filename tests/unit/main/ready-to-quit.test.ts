import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rendererSaves } from '../../../src/main/shutdown';
import { createStudio, type Studio } from '../../../src/main/studio';

let studio: Studio | null = null;

afterEach(async () => {
  await studio?.close();
  studio = null;
});

describe('app.readyToQuit', () => {
  it('is how a window answers the quitting app: its call settles the ask the app is waiting on', async () => {
    studio = await createStudio({
      dataDir: mkdtempSync(path.join(os.tmpdir(), 'atelier-quit-')),
      mode: 'cli',
      // Nothing here needs the engine; starting one would fail the test.
      spawnEngine: () => {
        throw new Error('the engine is not needed to answer a quit');
      },
    });
    const { quitId, answered } = rendererSaves.ask(1);
    let settled = false;
    void answered.then(() => {
      settled = true;
    });

    expect(await studio.dispatch('app.readyToQuit', { quitId: '' }, { transport: 'ipc' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await studio.dispatch('app.readyToQuit', { quitId }, { transport: 'ipc' })).toEqual({ ok: true, value: {} });
    await new Promise((resolve) => setImmediate(resolve)); // every pending callback has run
    expect(settled).toBe(true);
  });
});
