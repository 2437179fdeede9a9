import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSigningIdentity } from '../../src/main/credentials/identity';
import { signWithCredentials } from '../../src/main/credentials/sign';
import type { AtelierProvenance } from '../../src/main/library-io/provenance';
import { readChunks, rewritePng, textChunk } from '../../src/shared/png-chunks';
import { closeApp, openApp, screenshot, type AppSession } from './harness';

async function a1111Png(prompt: string, colour: string): Promise<Buffer> {
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: colour } }).png().toBuffer();
  return Buffer.from(rewritePng(readChunks(png), [textChunk('parameters', `${prompt}\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 42, Size: 32x32, Model: sd15`)]));
}

function provenance(prompt: string): AtelierProvenance {
  return { version: 1, generator: 'Atelier', id: '01TESTSIGNED0000000000000', kind: 'image', model: 'sd15', modelDigest: null, prompt, negativePrompt: '', seed: 42, params: { steps: 20 }, provider: 'cpu', parentId: null, lineage: [], created: '2026-12-05T00:00:00.000Z', createdAt: 0 };
}

describe('Content Credentials in the library detail (Chromium)', () => {
  let app: AppSession;
  let folder: string;

  beforeAll(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-c2pa-'));
    // The installation's own identity, so the signed picture reads as signed by this installation.
    const identity = await ensureSigningIdentity(dataDir);
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-c2pa-in-'));
    const signed = await signWithCredentials(identity, { bytes: await a1111Png('a signed lighthouse', '#225588'), mime: 'image/png', title: 'signed.png', provenance: provenance('a signed lighthouse'), parent: null, licence: null, generatorVersion: 'e2e' });
    fs.writeFileSync(path.join(folder, 'signed.png'), signed);
    fs.writeFileSync(path.join(folder, 'plain.png'), await a1111Png('a plain harbour', '#885522'));
    app = await openApp({ dataDir });
  });

  afterAll(async () => {
    await closeApp(app);
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('importing a signed picture shows its credentials; an unsigned one says none', async () => {
    const { page } = app;
    await page.getByTestId('nav-library').click();
    await page.getByTestId('view-library').waitFor();
    await page.getByText('Import a folder of PNGs').click();
    await page.getByTestId('library-import-path').fill(folder);
    await page.getByTestId('library-import').click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(2);
    expect(await page.getByTestId('library-import-credentials').textContent()).toContain('1 valid (1 signed by this installation)');

    await page.getByTestId('library-item').filter({ hasText: 'a signed lighthouse' }).click();
    const state = page.getByTestId('library-detail').getByTestId('credentials-state');
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 60_000 }).toBe('trusted');
    expect(await page.getByTestId('credentials-signer').textContent()).toMatch(/^Atelier on /);
    expect(await page.getByTestId('credentials-actions').textContent()).toContain('created: made by a generative model');
    await screenshot(page, 'library-detail-credentials');

    await page.getByTestId('library-item').filter({ hasText: 'a plain harbour' }).click();
    await expect.poll(() => state.getAttribute('data-state'), { timeout: 60_000 }).toBe('none');
    expect(await state.textContent()).toContain('no C2PA Content Credentials');
  });

  it('Settings says what the self-made certificate proves, and turning signing off is kept', async () => {
    const { page } = app;
    await page.getByTestId('nav-settings').click();
    const panel = page.getByTestId('credentials-settings');
    await expect.poll(() => panel.getByTestId('self-issued-note').textContent(), { timeout: 60_000 }).toContain('It does not prove who you are');
    expect(await panel.getByTestId('signing-subject').textContent()).toContain('CN=Atelier on ');
    const toggle = panel.getByTestId('sign-exports');
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await expect.poll(() => page.evaluate(async () => (await window.studio.settings.get()).signExports)).toBe(false);
    await screenshot(page, 'settings-content-credentials');
  });

  it('reported no page errors', () => {
    expect(app.errors).toEqual([]);
  });
});
