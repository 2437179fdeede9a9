import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { openLibrary } from '../../src/main/library';
import { startFakeHub, type FakeHub } from '../integration/helpers/fake-hub';
import { commitColour } from '../integration/helpers/meaning-fixtures';
import { closeApp, openApp, screenshot, type AppSession } from './harness';

/** Every file of a fixture folder, as the hub would list a repository. */
function repoFiles(dir: string, prefix = ''): { path: string; content: Buffer }[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? repoFiles(dir, rel) : [{ path: rel, content: readFileSync(path.join(dir, rel)) }];
  });
}

const PICTURES: [string, [number, number, number]][] = [
  ['sample one', [240, 20, 10]],
  ['sample two', [20, 30, 230]],
  ['sample three', [210, 10, 40]],
  ['sample four', [30, 200, 40]],
];
const SLOW = { timeout: 60_000 };

describe('a search-by-meaning model, from the Models view to a search', () => {
  let hub: FakeHub;
  let app: AppSession;
  let page: Page;

  beforeAll(async () => {
    // The oracle CLIP stands in for the catalog's Xenova/clip-vit-base-patch32 on a local hub.
    const fx = await ensureFixtures();
    hub = await startFakeHub({ 'Xenova/clip-vit-base-patch32': { files: repoFiles(fx.embedClipOracle) } });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-embedding-'));
    const library = openLibrary(path.join(dataDir, 'library'));
    for (const [prompt, rgb] of PICTURES) await commitColour(library, path.join(dataDir, 'scratch'), prompt.replace(' ', '-'), rgb, prompt);
    library.close();
    app = await openApp({ dataDir, env: { HF_ENDPOINT: hub.endpoint }, viewport: { width: 1400, height: 1000 } });
    ({ page } = app);
  });

  afterAll(async () => {
    await closeApp(app);
    await hub?.close();
  });

  it('the Library says nothing is searchable by meaning yet and offers the download', async () => {
    await page.getByTestId('nav-library').click();
    const availability = page.getByTestId('library-meaning-availability');
    await expect.poll(() => availability.locator('summary').textContent(), SLOW).toMatch(/Search by meaning: off/);
    await availability.locator('summary').click();
    await expect.poll(() => availability.locator('[data-kind="image"]').textContent(), SLOW).toMatch(/no model.*Download CLIP ViT-B\/32/s);
    await screenshot(page, 'library-meaning-availability');
    await availability.locator('summary').click();
  });

  it('installs CLIP from its own section in Models, uses it for pictures, and the Queue shows the index', async () => {
    await page.getByTestId('nav-models').click();
    const section = page.getByTestId('models-embedding');
    // Generation models and search models are listed apart.
    expect(await page.getByTestId('catalog').getByText('CLIP ViT-B/32').count()).toBe(0);
    const card = section.getByTestId('catalog-card').filter({ hasText: 'CLIP ViT-B/32' });
    await card.getByTestId('catalog-dtype').selectOption('fp32');
    await card.getByTestId('catalog-download').click();
    await card.getByTestId('catalog-installed').waitFor(SLOW);
    const installed = section.getByTestId('embedding-installed');
    await installed.getByTestId('embedding-use').waitFor(SLOW);
    expect(await installed.getByTestId('embedding-use').textContent()).toMatch(/Use to search pictures/);
    await screenshot(page, 'models-embedding-installed');
    await installed.getByTestId('embedding-use').click();
    await expect.poll(() => installed.getByTestId('embedding-in-use').textContent(), SLOW).toBe('searches pictures');

    await page.getByTestId('nav-queue').click();
    const index = page.getByTestId('queue-meaning-index');
    await expect.poll(() => index.getByTestId('queue-meaning-count').textContent(), SLOW).toBe(`${PICTURES.length} / ${PICTURES.length}`);
    // The count reaches the total one pass before the loop ends (it looks once more for new items): wait for the state.
    await expect.poll(() => index.getAttribute('data-state'), SLOW).toBe('done');
    await screenshot(page, 'queue-meaning-index');
    expect(app.errors).toEqual([]);
  });

  it('searches by meaning with the model it installed', async () => {
    await page.getByTestId('nav-library').click();
    await expect.poll(() => page.getByTestId('library-meaning-availability').locator('summary').textContent(), SLOW).toMatch(/Meaning: pictures/);
    await page.getByTestId('library-search').fill('red');
    const captions = () => page.getByTestId('library-item').locator('.snippet').allTextContents();
    await expect.poll(async () => (await captions()).slice(0, 2).sort(), SLOW).toEqual(['sample one', 'sample three']);
    await screenshot(page, 'library-meaning-after-install');
    expect(app.errors).toEqual([]);
  });
});
