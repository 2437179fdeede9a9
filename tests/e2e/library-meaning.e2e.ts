import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { openLibrary } from '../../src/main/library';
import { commitColour } from '../integration/helpers/meaning-fixtures';
import { closeApp, openApp, screenshot, type AppSession } from './harness';

/** Pictures whose prompts name no colour: only their pixels say which is red. */
const PICTURES: [string, [number, number, number]][] = [
  ['sample alpha', [240, 20, 10]],
  ['sample bravo', [20, 30, 230]],
  ['sample charlie', [210, 10, 40]],
  ['sample delta', [30, 200, 40]],
  ['sample echo', [10, 60, 200]],
  ['sample foxtrot', [250, 40, 30]],
  ['sample golf', [0, 10, 150]],
];
const RED = ['sample alpha', 'sample charlie', 'sample foxtrot'];
const BLUE = ['sample bravo', 'sample echo', 'sample golf'];

/** The first meaning search waits for the engine, which may still be probing providers after the page loaded. */
const SLOW = { timeout: 20_000 };

async function captions(page: Page): Promise<string[]> {
  return page.getByTestId('library-item').locator('.snippet').allTextContents();
}

describe('Library: search by meaning and "More like this"', () => {
  let app: AppSession;
  let page: Page;

  beforeAll(async () => {
    const fixtures = await ensureFixtures();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-meaning-'));
    const library = openLibrary(path.join(dataDir, 'library'));
    for (const [prompt, rgb] of PICTURES) await commitColour(library, path.join(dataDir, 'scratch'), prompt.replace(' ', '-'), rgb, prompt);
    library.close();
    app = await openApp({ dataDir });
    ({ page } = app);
    // Choose the oracle CLIP for pictures and wait until the background index has every picture.
    await page.evaluate(async (model) => {
      await window.studio.meaning.setModel({ kind: 'image', model });
    }, fixtures.embedClipOracle);
    await page.waitForFunction(
      async (count) => (await window.studio.meaning.status({})).kinds.some((k) => k.kind === 'image' && k.indexed === count && k.total === count),
      PICTURES.length,
      { timeout: 30_000, polling: 100 },
    );
    await page.reload();
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-item').nth(PICTURES.length - 1).waitFor();
  });

  afterAll(async () => {
    await closeApp(app);
  });

  it('"red" lists the red pictures first, and each result says why it is there', async () => {
    await page.getByTestId('library-meaning-toggle').waitFor();
    expect(await page.getByTestId('library-meaning-toggle').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('library-search').fill('red');
    await expect.poll(async () => (await captions(page)).slice(0, 3).sort(), SLOW).toEqual(RED);
    const title = await page.getByTestId('library-item').first().getAttribute('title');
    expect(title).toMatch(/^Meaning: (0\.9\d|1\.00) similarity/);
    await screenshot(page, 'library-meaning-search');

    // Words only: no prompt says "red".
    await page.getByTestId('library-meaning-toggle').click();
    await expect.poll(() => page.getByTestId('library-item').count(), SLOW).toBe(0);
    await page.getByTestId('library-meaning-toggle').click();
    await expect.poll(() => page.getByTestId('library-item').count(), SLOW).toBeGreaterThan(0);
    expect(app.errors).toEqual([]);
  });

  it('"More like this" on a blue picture lists the other blue pictures first', async () => {
    await page.getByTestId('library-search').fill('');
    await expect.poll(() => page.getByTestId('library-item').count(), SLOW).toBe(PICTURES.length);
    await page.getByTestId('library-item').filter({ hasText: 'sample bravo' }).click();
    await page.getByTestId('library-more-like-this').click();
    await page.getByTestId('library-similar-banner').waitFor();
    await expect.poll(async () => (await captions(page)).slice(0, 2).sort(), SLOW).toEqual(BLUE.filter((p) => p !== 'sample bravo'));
    expect(await captions(page)).not.toContain('sample bravo');
    await screenshot(page, 'library-more-like-this');
    expect(app.errors).toEqual([]);
  });

  it('the Queue shows the index behind search by meaning, which can be paused', async () => {
    await page.getByTestId('nav-queue').click();
    const index = page.getByTestId('queue-meaning-index');
    await expect.poll(() => index.getByTestId('queue-meaning-count').textContent(), SLOW).toBe(`${PICTURES.length} / ${PICTURES.length}`);
    expect(await index.getAttribute('data-state')).toBe('done');
    await index.getByRole('button', { name: 'Pause indexing' }).click();
    await expect.poll(() => page.evaluate(async () => (await window.studio.meaning.status({})).paused), SLOW).toBe(true);
    await index.getByRole('button', { name: 'Resume indexing' }).click();
    await expect.poll(() => page.evaluate(async () => (await window.studio.meaning.status({})).paused), SLOW).toBe(false);
    expect(app.errors).toEqual([]);
  });
});
