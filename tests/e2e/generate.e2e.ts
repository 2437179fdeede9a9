import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageFixtures } from '../../scripts/fixtures/image';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { closeApp, importModels, openApp, screenshot, type AppSession } from './harness';

describe('generating text, images and music in Chromium', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];
  let sentence: string;

  beforeAll(async () => {
    const [fx, images] = await Promise.all([ensureFixtures(), ensureImageFixtures()]);
    sentence = (JSON.parse(readFileSync(path.join(fx.textOracle, 'oracle.json'), 'utf8')) as { sentence: string }).sentence;
    app = await openApp();
    ({ page, errors } = app);
    await importModels(page, [
      { path: fx.textOracle, name: 'Oracle writer' },
      { path: images.imageOracle, name: 'Oracle painter' },
      { path: fx.musicOracle, name: 'Oracle tone' },
    ]);
  });

  afterAll(async () => {
    await closeApp(app);
  });

  async function savedBody(): Promise<string> {
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 60_000 }).toBe('Saved');
    return page.evaluate(async () => {
      const { items } = await window.studio.documents.list({});
      return (await window.studio.documents.get({ id: items[0].id })).body;
    });
  }

  it('streams the oracle sentence into the editor; Reject restores the document byte for byte, Accept is one undo step', async () => {
    await page.getByTestId('nav-write').click();
    await page.getByTestId('new-document').click();
    await page.locator('.cm-content').click();
    await page.keyboard.type('The keeper climbed the stairs.');
    const before = await savedBody();
    expect(before).toBe('The keeper climbed the stairs.');

    await page.getByTestId('ai-continue').click();
    await expect.poll(() => page.getByTestId('suggestion').textContent(), { timeout: 60_000 }).toBe(sentence);
    await page.getByTestId('suggestion-accept').waitFor();
    await screenshot(page, 'write-suggestion');
    await page.getByTestId('suggestion-reject').click();
    await expect.poll(() => page.getByTestId('suggestion').count()).toBe(0);
    await page.waitForTimeout(1200);
    expect(await savedBody()).toBe(before);

    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.getByTestId('ai-continue').click();
    await expect.poll(() => page.getByTestId('suggestion').textContent(), { timeout: 60_000 }).toBe(sentence);
    await page.locator('.cm-content').focus();
    await page.keyboard.press('Tab');
    await expect.poll(() => page.getByTestId('suggestion').count()).toBe(0);
    await expect.poll(savedBody, { timeout: 60_000 }).toBe(before + sentence);
    await page.locator('.cm-content').focus();
    await page.keyboard.press('Control+z');
    await expect.poll(savedBody, { timeout: 60_000 }).toBe(before);
  });

  it('generates an image with live previews, cancels a long one, and opens a result in the library', async () => {
    await page.getByTestId('nav-image').click();
    await page.getByTestId('image-prompt').fill('a lighthouse at dusk');
    await page.locator('#image-steps').fill('150');
    await page.locator('#image-steps').press('Tab');
    // 1024² × 150 steps keeps the tiny fixture busy for several seconds, so the cancel below lands mid-run.
    await page.getByRole('button', { name: '1024²' }).click();
    await page.getByTestId('image-generate').click();
    await expect.poll(() => page.getByTestId('image-preview').locator('img[src^="data:image/png"]').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.getByTestId('image-cancel').click();
    await screenshot(page, 'image-preview');
    await expect.poll(() => page.evaluate(async () => (await window.studio.jobs.list({})).items[0]?.state), { timeout: 60_000 }).toBe('cancelled');

    await page.getByRole('button', { name: '512²' }).click();
    await page.locator('#image-steps').fill('8');
    await page.locator('#image-steps').press('Tab');
    await page.getByTestId('image-generate').click();
    await expect.poll(() => page.evaluate(async () => (await window.studio.jobs.list({})).items[0]?.state), { timeout: 60_000 }).toBe('done');
    const result = page.getByRole('button', { name: 'Open in library' }).first();
    await result.waitFor();
    await screenshot(page, 'image-result');
    await result.click();
    await page.getByTestId('view-library').waitFor();
    await expect.poll(() => page.getByTestId('library-detail').textContent(), { timeout: 60_000 }).toContain('a lighthouse at dusk');
    await screenshot(page, 'library-detail-image');
  });

  it('generates music, plays it, and seeks through Range requests', async () => {
    const ranges: number[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/asset/') && response.status() === 206) ranges.push(response.status());
    });
    await page.getByTestId('nav-music').click();
    await page.getByTestId('music-prompt').fill('a calm tone');
    await page.locator('#music-seconds').fill('4');
    await page.locator('#music-seconds').press('Tab');
    await page.getByTestId('music-generate').click();
    const audio = page.getByTestId('view-music').locator('audio').first();
    await audio.waitFor({ timeout: 60_000 });
    await screenshot(page, 'music-result');
    await expect.poll(() => audio.evaluate((el: HTMLAudioElement) => el.duration), { timeout: 60_000 }).toBeGreaterThan(3.5);
    await audio.evaluate((el: HTMLAudioElement) => el.play());
    await expect.poll(() => audio.evaluate((el: HTMLAudioElement) => el.currentTime), { timeout: 60_000 }).toBeGreaterThan(0.2);
    await audio.evaluate((el: HTMLAudioElement) => {
      el.currentTime = el.duration / 2;
    });
    await expect.poll(() => audio.evaluate((el: HTMLAudioElement) => el.currentTime), { timeout: 60_000 }).toBeGreaterThan(2);
    expect(ranges.length).toBeGreaterThan(0);
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
