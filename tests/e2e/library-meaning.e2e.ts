import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { openLibrary } from '../../src/main/library';
import { commitColour, commitTone } from '../integration/helpers/meaning-fixtures';
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
/** Music whose prompts name no pitch: only the audio says which is low. */
const TONES: [string, number][] = [
  ['tune kilo', 100],
  ['tune lima', 3000],
  ['tune mike', 140],
  ['tune oscar', 6000],
  ['tune papa', 90],
];
const LOW = ['tune kilo', 'tune mike', 'tune papa'];
const ITEMS = PICTURES.length + TONES.length;

/** The first meaning search waits for the engine, which may still be probing providers after the page loaded. */
const SLOW = { timeout: 60_000 };

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
    for (const [prompt, hz] of TONES) await commitTone(library, path.join(dataDir, 'scratch'), prompt.replace(' ', '-'), hz, prompt);
    library.close();
    app = await openApp({ dataDir });
    ({ page } = app);
    // Choose the oracle CLIP for pictures and the oracle CLAP for music, and wait until the background index has every item.
    await page.evaluate(async ([clip, clap]) => {
      await window.studio.meaning.setModel({ kind: 'image', model: clip });
      await window.studio.meaning.setModel({ kind: 'music', model: clap });
    }, [fixtures.embedClipOracle, fixtures.embedClapOracle] as const);
    await page.waitForFunction(
      async ([pictures, tones]) => {
        const kinds = (await window.studio.meaning.status({})).kinds;
        const done = (kind: string, count: number): boolean => kinds.some((k) => k.kind === kind && k.indexed === count && k.total === count);
        return done('image', pictures) && done('music', tones);
      },
      [PICTURES.length, TONES.length] as const,
      { timeout: 60_000, polling: 100 },
    );
    await page.reload();
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-item').nth(ITEMS - 1).waitFor();
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

    // Results come best match first; the library's sort is not offered for them.
    expect(await page.getByTestId('library-ranked').textContent()).toBe('Best match first');
    expect(await page.getByTestId('library-sort').count()).toBe(0);
    const toggle = page.getByTestId('library-meaning-toggle');
    const background = () => toggle.evaluate((el) => getComputedStyle(el).backgroundColor);
    const pressedBackground = await background();

    // Words only: no prompt says "red". The toggle looks off as well as saying so.
    await toggle.click();
    await expect.poll(() => page.getByTestId('library-item').count(), SLOW).toBe(0);
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await page.mouse.move(0, 0);
    await expect.poll(background).not.toBe(pressedBackground);
    await page.getByTestId('library-meaning-toggle').click();
    await expect.poll(() => page.getByTestId('library-item').count(), SLOW).toBeGreaterThan(0);
    expect(app.errors).toEqual([]);
  });

  it('"More like this" on a blue picture lists the other blue pictures first', async () => {
    await page.getByTestId('library-search').fill('');
    await expect.poll(() => page.getByTestId('library-item').count(), SLOW).toBe(ITEMS);
    await page.getByTestId('library-item').filter({ hasText: 'sample bravo' }).click();
    await page.getByTestId('library-more-like-this').click();
    await page.getByTestId('library-similar-banner').waitFor();
    await expect.poll(async () => (await captions(page)).slice(0, 2).sort(), SLOW).toEqual(BLUE.filter((p) => p !== 'sample bravo'));
    expect(await captions(page)).not.toContain('sample bravo');
    await screenshot(page, 'library-more-like-this');
    expect(app.errors).toEqual([]);
  });

  it('music: "a deep bass drone" lists the low pieces first, and "More like this" on one lists the other low ones', async () => {
    await page.getByTestId('library-similar-banner').getByRole('button', { name: 'Back to the whole library' }).click();
    await page.getByTestId('library-search').fill('a deep bass drone');
    await expect.poll(async () => (await captions(page)).slice(0, 3).sort(), SLOW).toEqual(LOW);
    await page.getByTestId('library-search').fill('');
    await expect.poll(() => page.getByTestId('library-item').count(), SLOW).toBe(ITEMS);
    await page.getByTestId('library-item').filter({ hasText: 'tune kilo' }).click();
    // Music has its prompt adherence too, scored by the CLAP model that indexed it.
    await expect.poll(() => page.getByTestId('library-adherence').textContent(), SLOW).toMatch(/Prompt adherence[\s\S]*CLAP model/);
    await page.getByTestId('library-more-like-this').click();
    await page.getByTestId('library-similar-banner').waitFor();
    await expect.poll(async () => (await captions(page)).slice(0, 2).sort(), SLOW).toEqual(['tune mike', 'tune papa']);
    // Music → music: no picture is listed.
    expect((await captions(page)).filter((c) => c.startsWith('sample'))).toEqual([]);
    await screenshot(page, 'library-more-like-this-music');
    expect(app.errors).toEqual([]);
  });

  it('the Queue shows the index behind search by meaning, which can be paused', async () => {
    await page.getByTestId('nav-queue').click();
    const index = page.getByTestId('queue-meaning-index');
    const count = (kind: string) => index.locator(`[data-testid="queue-meaning-kind"][data-kind="${kind}"]`).getByTestId('queue-meaning-count');
    await expect.poll(() => count('image').textContent(), SLOW).toBe(`${PICTURES.length} / ${PICTURES.length}`);
    await expect.poll(() => count('music').textContent(), SLOW).toBe(`${TONES.length} / ${TONES.length}`);
    // The count reaches the total one pass before the loop ends (it looks once more for new items): wait for the state.
    await expect.poll(() => index.getAttribute('data-state'), SLOW).toBe('done');
    await index.getByRole('button', { name: 'Pause indexing' }).click();
    await expect.poll(() => page.evaluate(async () => (await window.studio.meaning.status({})).paused), SLOW).toBe(true);
    await index.getByRole('button', { name: 'Resume indexing' }).click();
    await expect.poll(() => page.evaluate(async () => (await window.studio.meaning.status({})).paused), SLOW).toBe(false);
    expect(app.errors).toEqual([]);
  });
});
