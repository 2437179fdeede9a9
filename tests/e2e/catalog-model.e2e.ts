import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageFixtures } from '../../scripts/fixtures/image';
import { startFakeHub, type FakeHub } from '../integration/helpers/fake-hub';
import { closeApp, openApp, screenshot, type AppSession } from './harness';

/** Every file of a fixture folder, as the hub would list a repository. */
function repoFiles(dir: string, prefix = ''): { path: string; content: Buffer }[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? repoFiles(dir, rel) : [{ path: rel, content: readFileSync(path.join(dir, rel)) }];
  });
}

describe('a catalog image model, from download to its first picture', () => {
  let hub: FakeHub;
  let app: AppSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    // The oracle image fixture stands in for the catalog's SD-Turbo repository on a local hub.
    const fx = await ensureImageFixtures();
    hub = await startFakeHub({ 'onnxruntime/sd-turbo': { files: repoFiles(fx.imageOracle) } });
    app = await openApp({ env: { HF_ENDPOINT: hub.endpoint }, viewport: { width: 1400, height: 1000 } });
    ({ page, errors } = app);
  });

  afterAll(async () => {
    await closeApp(app);
    await hub?.close();
  });

  it('downloads SD-Turbo from the catalog, and picking it applies its settings (1 step, no guidance)', async () => {
    await page.getByTestId('nav-models').click();
    const card = page.getByTestId('catalog-card').filter({ hasText: 'SD-Turbo' });
    await card.getByTestId('catalog-download').click();
    await card.getByTestId('catalog-installed').waitFor({ timeout: 60_000 });

    await page.getByTestId('nav-image').click();
    await expect.poll(() => page.getByTestId('image-model-note').textContent(), { timeout: 60_000 }).toMatch(/^Set for SD-Turbo.*: 1 step, guidance 0, Euler, 512×512\.$/);
    expect(await page.locator('#image-steps').inputValue()).toBe('1');
    expect(await page.locator('#image-guidance').inputValue()).toBe('0');
    expect(await page.locator('#image-scheduler').inputValue()).toBe('euler');
    await screenshot(page, 'image-catalog-model');

    // A model without recommendations (a folder imported by hand) keeps what the user set, and the note goes.
    await page.locator('#image-steps').fill('9');
    await page.locator('#image-steps').press('Tab');
    const fx = await ensureImageFixtures();
    await page.evaluate(async (dir) => void (await window.studio.models.import({ path: dir, name: 'My own painter' })), fx.imageInt64);
    await page.getByTestId('nav-models').click();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('rowheader', { name: 'My own painter' }).waitFor();
    await page.getByTestId('nav-image').click();
    await page.locator('#image-model').selectOption({ label: 'My own painter' });
    await expect.poll(() => page.getByTestId('image-model-note').count()).toBe(0);
    expect(await page.locator('#image-steps').inputValue()).toBe('9');
    expect(await page.locator('#image-guidance').inputValue()).toBe('0');
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
