import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { ensureImageFixtures } from '../../scripts/fixtures/image';
import { buildSameSizeFolder } from '../../scripts/fixtures/upscale';
import { closeApp, importModels, openApp, screenshot, type AppSession } from './harness';

/** Generate → Upscale ×2 from the Image view's result → the library shows the upscale as a child, with lineage both ways. */
describe('upscaling in Chromium', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    const images = await ensureImageFixtures();
    app = await openApp();
    ({ page, errors } = app);
    await importModels(page, [{ path: images.imageOracle, name: 'Oracle painter' }]);
  });

  afterAll(async () => {
    await closeApp(app);
  });

  it('upscales a generated picture ×2 into a child generation shown with its lineage, and compares the two', async () => {
    await page.getByTestId('nav-image').click();
    await page.getByTestId('image-prompt').fill('a harbour at noon');
    await page.locator('#image-steps').fill('2');
    await page.locator('#image-width').fill('128');
    await page.locator('#image-height').fill('96');
    await page.locator('#image-height').press('Tab');
    await page.getByTestId('image-generate').click();
    await expect.poll(() => page.evaluate(async () => (await window.studio.jobs.list({})).items[0]?.state), { timeout: 60_000 }).toBe('done');
    const original = await page.evaluate(async () => (await window.studio.jobs.list({})).items[0]!.generationIds[0]!);

    await page.getByTestId('view-image').getByTestId('upscale-x2').first().click();
    await expect
      .poll(() => page.evaluate(async () => {
        const job = (await window.studio.jobs.list({})).items[0]!;
        return job.params.mode === 'upscale' ? job.state : 'not started';
      }), { timeout: 60_000 })
      .toBe('done');
    const child = await page.evaluate(async () => (await window.studio.jobs.list({})).items[0]!.generationIds[0]!);
    const stored = await page.evaluate(async (id) => window.studio.library.get({ id }), child);
    expect(stored.parentId).toBe(original);
    expect(stored.prompt).toBe('a harbour at noon');
    expect(stored.params).toMatchObject({ mode: 'upscale', model: 'esrgan-slim-x2', scale: 2 });
    expect(stored.assets.find((a) => a.role === 'image')).toMatchObject({ width: 256, height: 192 });

    // The original (last in the strip: newest first), opened in the library, lists the upscale as
    // its child; the child names its parent.
    await page.getByTestId('view-image').getByRole('button', { name: 'Open in library' }).last().click();
    await page.getByTestId('view-library').waitFor();
    const detail = page.getByTestId('library-detail');
    await expect.poll(() => detail.getByTestId('lineage-child').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await screenshot(page, 'upscale-lineage-parent');
    await detail.getByTestId('lineage-child').first().click();
    await expect.poll(() => detail.getByTestId('lineage-ancestor').count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => detail.locator('img.large').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 60_000 }).toBe(256);
    await expect.poll(() => detail.getByTestId('upscale-x2').count()).toBe(1);
    await screenshot(page, 'upscale-lineage-child');

    // Compare: both pictures in one box of the same size, the original clipped at the divider.
    await detail.getByTestId('upscale-compare-open').click();
    const compare = page.getByTestId('upscale-compare');
    const natural = (id: string) => compare.getByTestId(id).evaluate((img: HTMLImageElement) => img.naturalWidth);
    await expect.poll(() => natural('upscale-compare-before'), { timeout: 60_000 }).toBe(128);
    await expect.poll(() => natural('upscale-compare-after'), { timeout: 60_000 }).toBe(256);
    const boxes = await Promise.all(['upscale-compare-before', 'upscale-compare-after'].map((id) => compare.getByTestId(id).boundingBox()));
    expect(boxes[0]).toEqual(boxes[1]);
    await compare.getByTestId('upscale-compare-split').fill('25');
    expect(await compare.getByTestId('upscale-compare-before').evaluate((img: HTMLImageElement) => img.style.clipPath)).toBe('inset(0px 75% 0px 0px)');
    await compare.getByTestId('upscale-compare-zoom').selectOption('4');
    await screenshot(page, 'upscale-compare');
    await compare.getByTestId('upscale-compare-close').click();
    await expect.poll(() => page.getByTestId('upscale-compare').count()).toBe(0);

    // Many at once: select both pictures, Upscale ×2 from the selection bar → two more children.
    const items = page.getByTestId('library-item');
    await items.nth(0).click();
    await items.nth(1).click({ modifiers: ['Control'] });
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe('2 selected');
    await page.getByTestId('bulk-upscale-x2').click();
    await expect
      .poll(() => page.evaluate(async () => (await window.studio.jobs.list({})).items.filter((j) => j.params.mode === 'upscale' && j.state === 'done').length), { timeout: 60_000 })
      .toBe(3);
    const sizes = await page.evaluate(async () => (await window.studio.library.list({ kind: 'image', limit: 10 })).items.map((g) => g.assets.find((a) => a.role === 'image')?.width).sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(sizes).toEqual([128, 256, 256, 512]);
  });

  it('lists the bundled upscalers in Models and refuses a folder that is not one, saying why', async () => {
    const folder = buildSameSizeFolder(path.join(app.served.dataDir, 'not-an-upscaler'));
    await page.getByTestId('nav-models').click();
    const section = page.getByTestId('upscalers');
    await expect.poll(() => section.getByTestId('upscaler-row').count(), { timeout: 60_000 }).toBe(6);
    expect(await section.getByTestId('upscaler-row').first().textContent()).toContain('MIT');
    await section.getByTestId('upscaler-import-path').fill(folder);
    await section.getByTestId('upscaler-import').click();
    await expect.poll(() => section.getByTestId('upscaler-error').textContent(), { timeout: 60_000 }).toContain('same size');
    await screenshot(page, 'upscalers');
  });

  it('upscales each new picture when "After generating: Upscale ×2" is chosen', async () => {
    await page.getByTestId('nav-image').click();
    await page.getByTestId('image-upscale-after').selectOption('2');
    await page.getByTestId('image-prompt').fill('a quay at dusk');
    await page.getByTestId('image-generate').click();
    await expect
      .poll(() => page.evaluate(async () => {
        const [latest] = (await window.studio.jobs.list({})).items;
        return latest?.params.mode === 'upscale' ? latest.state : 'waiting';
      }), { timeout: 60_000 })
      .toBe('done');
    const child = await page.evaluate(async () => window.studio.library.get({ id: (await window.studio.jobs.list({})).items[0]!.generationIds[0]! }));
    expect(child.prompt).toBe('a quay at dusk');
    expect(child.assets.find((a) => a.role === 'image')).toMatchObject({ width: 256, height: 192 });
    await page.getByTestId('image-upscale-after').selectOption('0');
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
