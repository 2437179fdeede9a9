import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageFixtures } from '../../scripts/fixtures/image';
import { screenshot, openApp, closeApp, type AppSession } from './harness';

const RED = { prompt: 'a red lighthouse at dusk', seed: 1234, steps: 6, width: 64, height: 96 };
const BLUE = { prompt: 'a blue harbour at dawn', seed: 99, steps: 4, width: 64, height: 64 };

describe('library flows in Chromium', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];

  async function openLibrary(): Promise<void> {
    await page.getByTestId('nav-library').click();
    await page.getByTestId('view-library').waitFor();
  }

  function card(prompt: string) {
    return page.getByTestId('library-item').filter({ hasText: prompt });
  }

  beforeAll(async () => {
    const images = await ensureImageFixtures();
    app = await openApp();
    ({ page, errors } = app);
    await page.evaluate(
      async ([modelPath, red, blue]) => {
        const model = await window.studio.models.import({ path: modelPath, name: 'Oracle painter' });
        for (const p of [red, blue]) {
          await window.studio.jobs.start({ kind: 'image', params: { model: model.id, negativePrompt: 'fog', guidance: 6.5, scheduler: 'euler', ...p } });
        }
        for (let i = 0; i < 600; i++) {
          const { items } = await window.studio.jobs.list({});
          if (items.length >= 2 && items.every((job) => job.state === 'done')) return;
          if (items.some((job) => job.state === 'failed')) throw new Error(JSON.stringify(items.map((job) => job.error)));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error('the two image jobs did not finish');
      },
      [images.imageOracle, RED, BLUE] as const,
    );
    await page.reload();
    await page.getByTestId('nav-write').waitFor();
  });

  afterAll(async () => {
    await closeApp(app);
  });

  it('finds a prompt with the match highlighted', async () => {
    await openLibrary();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(2);
    await page.getByTestId('library-search').fill('lighthouse');
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('library-snippet').locator('mark').first().textContent()).toMatch(/lighthouse/i);
    await screenshot(page, 'library-search');
    await page.getByTestId('library-search').fill('');
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(2);
  });

  it('keeps rating, tags and notes after a reload', async () => {
    await card(RED.prompt).click();
    const detail = page.getByTestId('library-detail');
    await detail.getByRole('button', { name: '4 stars' }).click();
    await page.getByTestId('library-tag-input').fill('coast, keeper');
    await page.getByTestId('library-tag-input').press('Enter');
    await expect.poll(() => page.getByTestId('library-tags').textContent()).toContain('keeper');
    await page.getByTestId('library-notes').fill('Try a longer exposure next time.');
    await expect.poll(() => page.getByTestId('library-notes-state').textContent(), { timeout: 60_000 }).toContain('Saved');
    await screenshot(page, 'library-detail-notes');

    await page.reload();
    await openLibrary();
    await card(RED.prompt).click();
    await expect.poll(() => page.getByTestId('library-detail').getByRole('group', { name: /Rating/ }).getAttribute('aria-label')).toBe('Rating: 4 of 5');
    await expect.poll(() => page.getByTestId('library-tags').textContent()).toMatch(/coast[\s\S]*keeper|keeper[\s\S]*coast/);
    expect(await page.getByTestId('library-notes').inputValue()).toBe('Try a longer exposure next time.');
  });

  it('remix opens the Image tab with the exact parameters', async () => {
    await page.getByTestId('library-remix').click();
    await page.getByTestId('view-image').waitFor();
    expect(await page.getByTestId('image-prompt').inputValue()).toBe(RED.prompt);
    expect(await page.locator('#image-steps').inputValue()).toBe(String(RED.steps));
    expect(await page.locator('#image-seed-value').inputValue()).toBe(String(RED.seed));
    expect(await page.locator('#image-width').inputValue()).toBe(String(RED.width));
    expect(await page.locator('#image-height').inputValue()).toBe(String(RED.height));
    await screenshot(page, 'library-remix-image');
  });

  it('compares two items side by side with differing parameters marked', async () => {
    await openLibrary();
    await card(RED.prompt).click();
    await card(BLUE.prompt).click({ modifiers: ['Control'] });
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe('2 selected');
    await page.getByTestId('bulk-compare').click();
    const compare = page.getByTestId('compare-view');
    await compare.waitFor();
    expect(await compare.getByTestId('compare-item').count()).toBe(2);
    const boxes = await compare.locator('img').evaluateAll((imgs) => imgs.map((img) => img.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, w: r.width, h: r.height })));
    expect(boxes).toHaveLength(2);
    expect(Math.abs(boxes[0]!.y - boxes[1]!.y)).toBeLessThan(2);
    expect(boxes[1]!.x).toBeGreaterThan(boxes[0]!.x + boxes[0]!.w - 1);
    // Same scale: a 64×96 and a 64×64 picture keep their 3:2 height ratio and equal widths.
    const [redBox, blueBox] = (await compare.locator('img').first().getAttribute('alt'))?.includes('red') ? [boxes[0]!, boxes[1]!] : [boxes[1]!, boxes[0]!];
    expect(Math.abs(redBox.w - blueBox.w)).toBeLessThan(1.5);
    expect(redBox.h / blueBox.h).toBeCloseTo(1.5, 1);
    const seedRow = page.getByTestId('compare-params').locator('tr', { hasText: 'seed' }).first();
    expect(await seedRow.getAttribute('data-differs')).toBe('true');
    expect(await seedRow.textContent()).toContain('Differs');
    await screenshot(page, 'library-compare');
    await page.getByTestId('compare-close').click();
  });

  it('tags a selection in one step, and search finds both by the new tag', async () => {
    await card(RED.prompt).click();
    await card(BLUE.prompt).click({ modifiers: ['Control'] });
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe('2 selected');
    await page.getByTestId('bulk-tag-input').fill('pier');
    await page.getByTestId('bulk-tag').click();
    await expect.poll(() => page.getByText('Tagged 2 items').count()).toBeGreaterThan(0);
    await page.getByTestId('library-search').fill('pier');
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(2);
    await page.getByTestId('library-search').fill('');
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(2);
    await page.keyboard.press('Escape');
  });

  it('creates a collection from the selection and filters the grid to it', async () => {
    await card(BLUE.prompt).click();
    await page.getByTestId('collection-name').fill('Harbour board');
    await page.getByTestId('collection-create').click();
    const entry = page.getByTestId('collection-entry').filter({ hasText: 'Harbour board' });
    await expect.poll(() => entry.textContent()).toContain('1');
    await entry.click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('library-item').first().textContent()).toContain(BLUE.prompt);
    await screenshot(page, 'library-collection');
    await page.getByRole('button', { name: 'All items' }).click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(2);
  });

  it('deletes with undo, and empties the trash behind a confirm dialog that Esc closes', async () => {
    await card(BLUE.prompt).click();
    await page.getByTestId('bulk-delete').click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(1);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(2);
    await card(BLUE.prompt).click();
    await page.getByTestId('bulk-delete').click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(1);

    await page.getByTestId('library-trash').click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(1);
    await page.getByTestId('empty-trash').click();
    const dialog = page.getByTestId('empty-trash-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    await screenshot(page, 'library-empty-trash-dialog');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await page.getByTestId('library-item').count()).toBe(1);
    await page.getByTestId('empty-trash').click();
    await page.getByTestId('empty-trash-dialog-confirm').click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(0);
    await page.getByTestId('library-trash').click();
    await expect.poll(() => page.getByTestId('library-item').count(), { timeout: 60_000 }).toBe(1);
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
