import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCredentials } from '../../src/main/credentials/read';
import { spawnNodeEngine } from '../../src/main/engine-host/spawn-node';
import { createStudio, type Studio } from '../../src/main/studio';
import { insertChunks, textChunk } from '../../src/shared/png-chunks';

/** The library.export call as the app makes it: signed by default, unsigned when the setting is off. */
describe('library.export and the signExports setting', () => {
  let studio: Studio;
  let dataDir: string;
  let id: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-c2pa-settings-'));
    studio = await createStudio({ dataDir, mode: 'cli', spawnEngine: () => spawnNodeEngine() });
    const folder = path.join(dataDir, 'incoming');
    fs.mkdirSync(folder);
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#aa3300' } }).png().toBuffer();
    fs.writeFileSync(path.join(folder, 'a.png'), insertChunks(png, [textChunk('parameters', 'an orange square\nSteps: 4, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 8x8, Model: m')]));
    const imported = await studio.dispatch('library.importFolder', { path: folder }, { transport: 'cli' });
    if (!imported.ok) throw new Error(imported.error.message);
    id = (imported.value as { ids: string[] }).ids[0]!;
  });

  afterAll(async () => {
    await studio?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function exportOne(): Promise<Buffer> {
    const result = await studio.dispatch('library.export', { ids: [id] }, { transport: 'cli' });
    if (!result.ok) throw new Error(result.error.message);
    const value = result.value as { files: string[]; unsigned?: string };
    expect(value.unsigned).toBeUndefined();
    return fs.readFileSync(value.files.find((f) => f.endsWith('.png'))!);
  }

  it('signs by default, naming the tool that made an imported picture; with the setting off it does not sign', async () => {
    const settings = await studio.dispatch('settings.get', {}, { transport: 'cli' });
    expect(settings).toMatchObject({ ok: true, value: { signExports: true } });
    const signed = await readCredentials(await exportOne(), 'image/png');
    expect(signed.state).toBe('valid');
    expect(signed.actions[0]?.softwareAgent).toBe('AUTOMATIC1111');
    expect(signed.generator).toMatch(/^Atelier /);
    expect(fs.statSync(path.join(dataDir, 'credentials', 'signing-key.pem')).isFile()).toBe(true);

    expect(await studio.dispatch('settings.set', { signExports: false }, { transport: 'cli' })).toMatchObject({ ok: true, value: { signExports: false } });
    expect((await readCredentials(await exportOne(), 'image/png')).state).toBe('none');
  });
});
