import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, openApp, screenshot, type AppSession } from './harness';

describe('Write: searching documents', () => {
  let app: AppSession;
  let page: Page;

  beforeAll(async () => {
    app = await openApp();
    ({ page } = app);
    await page.evaluate(async () => {
      await window.studio.documents.create({ title: 'Harbour notes', body: 'Gulls over the pier at dawn.' });
      await window.studio.documents.create({ title: 'Chapter two', body: 'She lit the <lamp> & waited for the ferry, "it\'s late".' });
    });
    await page.reload();
    await page.getByTestId('nav-write').click();
  });

  afterAll(async () => {
    await closeApp(app);
  });

  it('finds a document by a word in its text, marks the word, and opens it', async () => {
    await page.getByTestId('document-search').fill('ferry');
    const hit = page.getByTestId('document-search-hit');
    await expect.poll(() => hit.count()).toBe(1);
    expect(await hit.locator('mark').allTextContents()).toEqual(['ferry']);
    // The text reads as written: no HTML entities shown to the writer.
    expect(await hit.textContent()).toContain('She lit the <lamp> & waited for the ferry, "it\'s late".');
    await screenshot(page, 'write-search');
    await hit.click();
    await expect.poll(() => page.getByTestId('document-title').inputValue()).toBe('Chapter two');

    await page.getByTestId('document-search').fill('zeppelin');
    await page.getByTestId('document-search-empty').waitFor();
    await page.getByTestId('document-search').press('Escape');
    await expect.poll(() => page.locator('.doc-list .doc').count()).toBe(2);
    expect(app.errors).toEqual([]);
  });
});
