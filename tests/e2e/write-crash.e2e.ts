import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { importModels, launchChromium, startServe, type Served } from './harness';

describe('writing survives a killed app', () => {
  let browser: Browser | undefined;
  const servers: Served[] = [];

  afterAll(async () => {
    await browser?.close();
    for (const served of servers) await served.stop();
  });

  it('keeps typed and accepted text when the app is killed with SIGKILL while a suggestion streams', async () => {
    const fx = await ensureFixtures();
    const sentence = (JSON.parse(readFileSync(path.join(fx.textOracle, 'oracle.json'), 'utf8')) as { sentence: string }).sentence;
    const first = await startServe();
    servers.push(first);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(first.url);
    await page.getByTestId('nav-write').waitFor();
    await importModels(page, [{ path: fx.textOracle, name: 'Oracle writer' }]);
    await page.getByTestId('nav-write').click();
    await page.getByTestId('new-document').click();
    await page.locator('.cm-content').click();
    await page.keyboard.type('Night fell.');
    await page.getByTestId('ai-continue').click();
    await expect.poll(() => page.getByTestId('suggestion').textContent(), { timeout: 60_000 }).toBe(sentence);
    await page.locator('.cm-content').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.type(' The end.');
    // Start another suggestion and kill the whole app (server and engine) while it is pending.
    await page.getByTestId('ai-continue').click();
    // Autosave runs within a second of the last keystroke; wait for it rather than for a fixed time.
    await expect.poll(() => page.getByTestId('save-state').textContent(), { timeout: 60_000 }).toBe('Saved');
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    const second = await startServe(first.dataDir);
    servers.push(second);
    const reopened = await browser.newPage();
    await reopened.goto(second.url);
    // window.studio exists once the app has connected; evaluating earlier races the page's own start-up.
    await reopened.getByTestId('nav-write').waitFor();
    const body = await reopened.evaluate(async () => {
      const { items } = await window.studio.documents.list({});
      return (await window.studio.documents.get({ id: items[0].id })).body;
    });
    expect(body).toBe(`Night fell.${sentence} The end.`);
  });
});
