import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startServe, watchErrors, type Served } from './harness';

/**
 * `atelier serve` stopped and started again on the same library, with the same browser: the page
 * comes back at the same origin (so its own storage is still there), in its theme, and the
 * document still shows which passage an AI wrote.
 */
describe('browser mode restarted on the same library', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-restart-'));
  let served: Served | undefined;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let firstOrigin: string;

  beforeAll(async () => {
    served = await startServe(dataDir);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 880 } })).newPage();
    errors = watchErrors(page);
    await page.goto(served.url);
    await page.getByTestId('nav-write').waitFor();
    firstOrigin = new URL(served.url).origin;
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('keeps the origin, the page storage, the theme and the AI-passage marks', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByRole('radio', { name: 'Dark' }).check();
    await expect.poll(() => page.evaluate(() => document.documentElement.getAttribute('data-theme'))).toBe('dark');
    // What the editor saves when a suggestion is accepted: the passage and the text it covered.
    await page.evaluate(async () => {
      const document = await window.studio.documents.create({ title: 'Harbour', body: 'It was dark. The sea rose.' });
      await window.studio.documents.update({ id: document.id, aiPassages: [{ id: 'p1', from: 13, to: 26, action: 'continue', generationIds: [], text: 'The sea rose.' }] });
      localStorage.setItem('atelier.e2e.marker', 'kept');
    });

    await served!.stop();
    served = await startServe(dataDir);
    expect(new URL(served.url).origin).toBe(firstOrigin);
    // The new link differs from the open page only in its fragment: opening it in the same tab must start the page again.
    await Promise.all([page.waitForEvent('load'), page.goto(served.url)]);
    await page.getByTestId('nav-write').waitFor();

    expect(await page.evaluate(() => localStorage.getItem('atelier.e2e.marker'))).toBe('kept');
    await expect.poll(() => page.evaluate(() => document.documentElement.getAttribute('data-theme')), { timeout: 60_000 }).toBe('dark');
    await page.getByTestId('nav-write').click();
    await page.locator('.doc-open', { hasText: 'Harbour' }).click();
    await expect.poll(() => page.getByTestId('document-title').inputValue()).toBe('Harbour');
    await expect.poll(() => page.locator('.cm-ai-passage').textContent(), { timeout: 60_000 }).toBe('The sea rose.');
    expect(errors).toEqual([]);
  });
});
