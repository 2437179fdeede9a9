import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { screenshot, openApp, closeApp, importModels, type AppSession } from './harness';

describe('Write: versions, alternatives, export and import', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];
  let sentence: string;
  const before = 'The keeper climbed the stairs.';

  beforeAll(async () => {
    const fx = await ensureFixtures();
    sentence = (JSON.parse(readFileSync(path.join(fx.textOracle, 'oracle.json'), 'utf8')) as { sentence: string }).sentence;
    app = await openApp();
    ({ page, errors } = app);
    await importModels(page, [{ path: fx.textOracle, name: 'Oracle writer' }]);
    await page.getByTestId('nav-write').click();
    await page.getByTestId('new-document').click();
    await page.locator('.cm-content').click();
    await page.keyboard.type(before);
  });

  afterAll(async () => {
    await closeApp(app);
  });

  const storedBody = () =>
    page.evaluate(async () => {
      const { items } = await window.studio.documents.list({});
      return (await window.studio.documents.get({ id: items[0]!.id })).body;
    });
  const reasons = () => page.getByTestId('version-reason').allTextContents();

  it('keeps regenerated suggestions as alternatives that Alt+[ / Alt+] and the buttons cycle through', async () => {
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 60_000 }).toMatch(/saved/i);
    await page.getByTestId('save-version').click();
    await expect.poll(reasons).toEqual(['Saved by you']);

    await page.getByTestId('ai-continue').click();
    await expect.poll(() => page.getByTestId('suggestion').textContent(), { timeout: 60_000 }).toBe(sentence);
    await page.getByTestId('suggestion-regenerate').click();
    await expect.poll(() => page.getByTestId('alternative-position').textContent()).toBe('2/2');
    await expect.poll(() => page.getByTestId('suggestion').textContent(), { timeout: 60_000 }).toBe(sentence);
    await page.getByTestId('suggestion-regenerate').waitFor();
    await page.locator('.cm-content').focus();
    await page.keyboard.press('Alt+BracketLeft');
    await expect.poll(() => page.getByTestId('alternative-position').textContent()).toBe('1/2');
    await page.keyboard.press('Alt+BracketRight');
    await expect.poll(() => page.getByTestId('alternative-position').textContent()).toBe('2/2');
    await page.getByTestId('alternative-next').click();
    await expect.poll(() => page.getByTestId('alternative-position').textContent()).toBe('1/2');
    expect(await page.getByTestId('suggestion').textContent()).toBe(sentence);
    await screenshot(page, 'write-alternatives');
  });

  it('accepting a suggestion keeps a version and tags the generations accepted / rejected', async () => {
    await page.getByTestId('suggestion-accept').click();
    await expect.poll(reasons, { timeout: 60_000 }).toEqual(['Accepted AI: continue', 'Saved by you']);
    expect(await storedBody()).toBe(before + sentence);
    const tags = async () =>
      page.evaluate(async () => (await window.studio.library.list({ kind: 'text' })).items.map((g) => g.tags.filter((t) => t === 'accepted' || t === 'rejected').join(',')).sort());
    await expect.poll(tags, { timeout: 60_000 }).toEqual(['accepted', 'rejected']);
  });

  it('shows the inserted sentence in the diff against the earlier version', async () => {
    const saved = page.getByTestId('version-item').filter({ hasText: 'Saved by you' });
    await saved.getByTestId('version-compare').click();
    await page.getByTestId('version-diff').waitFor();
    const inserted = (await page.getByTestId('diff-insert').allTextContents()).join('');
    expect(inserted.replace(/\[added: |\]/g, '')).toContain(sentence.trim());
    expect(await page.getByTestId('diff-delete').count()).toBe(0);
    await screenshot(page, 'write-diff');
    await page.getByTestId('diff-close').click();
  });

  it('exports Markdown whose front matter lists the AI passage with its generation id', async () => {
    const generationId = await page.evaluate(async () => (await window.studio.library.list({ kind: 'text', tag: 'accepted' })).items[0]!.id);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-markdown').click()]);
    expect(download.suggestedFilename()).toMatch(/\.md$/);
    const file = await download.path();
    const text = readFileSync(file, 'utf8');
    const front = /^---\n([\s\S]*?)\n---\n/.exec(text)?.[1] ?? '';
    expect(front).toContain('generator: Atelier');
    expect(front).toMatch(/^words: \d+$/m);
    expect(front).toContain(`  - text: ${JSON.stringify(sentence)}`);
    expect(front).toContain(`generation_ids: ["${generationId}"]`);
    expect(text.endsWith(`${before}${sentence}\n`)).toBe(true);
  });

  it('restores the earlier version into the editor and the stored document', async () => {
    const saved = page.getByTestId('version-item').filter({ hasText: 'Saved by you' });
    await saved.getByTestId('version-compare').click();
    await page.getByTestId('version-restore').click();
    await expect.poll(storedBody, { timeout: 60_000 }).toBe(before);
    await expect.poll(() => page.locator('.cm-content').textContent()).toBe(before);
    await expect.poll(reasons).toContain('Before restoring an older version');
  });

  it('focus mode hides the side panels (Ctrl+Shift+F) and Esc leaves it', async () => {
    await page.locator('.cm-content').focus();
    await page.keyboard.press('Control+Shift+F');
    await expect.poll(() => page.getByRole('navigation', { name: 'Documents' }).count()).toBe(0);
    await expect.poll(() => page.getByTestId('versions-panel').count()).toBe(0);
    await screenshot(page, 'write-focus');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('versions-panel').count()).toBe(1);
  });

  it('imports a .md file: front matter becomes the title and notes, the body the text', async () => {
    const md = '---\ntitle: "Imported draft"\nnotes: "A lighthouse keeper, 1890."\nwords: 3\n---\nWaves hit rocks.\n';
    await page.getByTestId('import-file').setInputFiles({ name: 'draft.md', mimeType: 'text/markdown', buffer: Buffer.from(md) });
    await expect.poll(() => page.getByTestId('document-title').inputValue()).toBe('Imported draft');
    expect(await page.getByTestId('story-notes').inputValue()).toBe('A lighthouse keeper, 1890.');
    await expect.poll(() => page.locator('.cm-content').textContent()).toBe('Waves hit rocks.');
    await screenshot(page, 'write-view');
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
