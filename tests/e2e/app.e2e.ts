import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, screenshot, openApp, closeApp, type Served, type AppSession } from './harness';

const VIEWS = ['write', 'image', 'music', 'library', 'models', 'queue', 'settings'] as const;

async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the app's CSP (rightly) refuses injected inline scripts.
  await page.evaluate(readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
    return axe.run(document);
  });
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`);
}

describe('the studio in Chromium over the loopback transport', () => {
  let served: Served;
  let app: AppSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    app = await openApp();
    ({ served, page, errors } = app);
  });

  afterAll(async () => {
    await closeApp(app);
  });

  // "No Node in the page" means something only in Electron (plain Chromium never has require):
  // tests/e2e/electron-launch.e2e.ts checks it in the real window.
  it('gives the page window.studio with every namespace of the contract', async () => {
    const namespaces = await page.evaluate(() => Object.keys(window.studio).sort());
    expect(namespaces).toEqual(expect.arrayContaining(['app', 'collections', 'documents', 'jobs', 'library', 'models', 'settings']));
    expect(await page.evaluate(() => typeof window.studio.library.list)).toBe('function');
  });

  it('removes the token from the address bar', async () => {
    expect(page.url()).not.toContain(served.token);
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`visits every view in the ${scheme} theme with no serious accessibility violation`, async () => {
      await page.emulateMedia({ colorScheme: scheme });
      for (const view of VIEWS) {
        await page.getByTestId(`nav-${view}`).click();
        await page.getByTestId(`view-${view}`).waitFor();
        await page.waitForTimeout(150);
        await screenshot(page, `view-${view}-${scheme}`);
        expect(await axeViolations(page), `${view} (${scheme})`).toEqual([]);
      }
    });
  }

  it('switches views from the keyboard', async () => {
    await page.getByTestId('nav-write').click();
    await page.keyboard.press('Control+3');
    await page.getByTestId('view-music').waitFor();
    await page.keyboard.press('Control+4');
    await page.getByTestId('view-library').waitFor();
  });

  it('creates a document, and it is there after a reload', async () => {
    await page.getByTestId('nav-write').click();
    await page.getByTestId('new-document').click();
    const title = page.getByTestId('document-title');
    await title.fill('The lighthouse');
    const editor = page.locator('.cm-content');
    await editor.click();
    await page.keyboard.type('It was a dark and stormy night.');
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 60_000 }).toMatch(/saved/i);
    await screenshot(page, 'write-document');
    await page.reload();
    await page.getByTestId('nav-write').click();
    await page.getByText('The lighthouse').first().click();
    await expect.poll(() => page.locator('.cm-content').textContent(), { timeout: 60_000 }).toContain('It was a dark and stormy night.');
  });

  it('reported no page errors', () => {
    expect(errors.filter((e) => !e.includes('favicon'))).toEqual([]);
  });
});
