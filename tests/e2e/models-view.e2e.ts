import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, openApp, closeApp, type AppSession } from './harness';

describe('the Models view', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    app = await openApp({ viewport: { width: 1400, height: 1000 } });
    ({ page, errors } = app);
    await page.getByTestId('nav-models').click();
    await page.getByTestId('view-models').waitFor();
  });

  afterAll(async () => {
    await closeApp(app);
  });

  it('renders catalog cards with licences, sizes per dtype and what a download checks, in words for users', async () => {
    const cards = page.getByTestId('catalog-card');
    await expect.poll(() => cards.count(), { timeout: 60_000 }).toBeGreaterThan(0);
    const catalog = await page.evaluate(async () => (await window.studio.models.catalog({})).items);
    expect(await cards.count()).toBe(catalog.length);
    for (let i = 0; i < catalog.length; i++) {
      const licence = cards.nth(i).getByTestId('catalog-licence');
      expect(await licence.getAttribute('href')).toBe(catalog[i]!.licence.url);
      expect(await licence.textContent()).toContain(catalog[i]!.licence.id);
      expect(await cards.nth(i).getByTestId('catalog-unverified').count()).toBe(catalog[i]!.verified ? 0 : 1);
      expect(await cards.nth(i).getByTestId('catalog-checked').textContent()).toContain("checked against the hub's size and hash");
      // The card speaks about the model and the download, never about how Atelier was built.
      expect(await cards.nth(i).textContent()).not.toMatch(/build machine/i);
    }
    await screenshot(page, 'models-catalog');
  });

  it('a download against an unreachable hub shows an actionable offline error, not a stack trace', async () => {
    const card = page.getByTestId('catalog-card').filter({ has: page.getByTestId('catalog-download') }).first();
    await card.getByTestId('catalog-download').click();
    const problem = page.locator('[data-testid="catalog-error"], [data-testid="download-error"]').first();
    await problem.waitFor({ timeout: 90_000 });
    const text = (await problem.textContent()) ?? '';
    expect(text).toMatch(/Cannot reach the model hub|offline/i);
    expect(text).toMatch(/Resume|Connect/);
    expect(text).not.toMatch(/\bat \S+ \(.*:\d+:\d+\)|node:internal|Error: .*\n\s+at /);
    await problem.scrollIntoViewIfNeeded();
    await screenshot(page, 'models-download-offline');
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
