import { readdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyLlamaGguf } from '../../scripts/fixtures/gguf';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { startFakeHub, type FakeHub } from '../integration/helpers/fake-hub';
import { closeApp, importModels, openApp, screenshot, type AppSession } from './harness';

const REPO = 'Qwen/Qwen2.5-0.5B-Instruct-GGUF';

describe('GGUF quantisations and text servers in Chromium', () => {
  let hub: FakeHub;
  let app: AppSession;
  let page: Page;
  let errors: string[];
  let servedId = '';

  beforeAll(async () => {
    const fx = await ensureFixtures();
    // The tiny GGUF fixture stands in for the catalog's Qwen GGUF repository on a local hub.
    hub = await startFakeHub({
      [REPO]: {
        files: [
          { path: 'LICENSE', content: Buffer.from('Apache License 2.0\n') },
          { path: 'qwen2.5-0.5b-instruct-q4_k_m.gguf', content: buildTinyLlamaGguf(undefined, 'q8_0') },
          { path: 'qwen2.5-0.5b-instruct-fp16.gguf', content: buildTinyLlamaGguf(undefined, 'f16') },
          { path: 'qwen2.5-0.5b-instruct-q8_0-00001-of-00002.gguf', content: Buffer.alloc(4096, 1) },
          { path: 'qwen2.5-0.5b-instruct-q8_0-00002-of-00002.gguf', content: Buffer.alloc(4096, 2) },
        ],
      },
    });
    // Atelier's own OpenAI-compatible endpoint (loopback) serves the model the text-server form adds.
    app = await openApp({ env: { HF_ENDPOINT: hub.endpoint }, args: ['--openai'], viewport: { width: 1400, height: 1000 } });
    ({ page, errors } = app);
    [servedId] = await importModels(page, [{ path: fx.ggufLlama, name: 'Tiny llama' }]);
  });

  afterAll(async () => {
    await closeApp(app);
    await hub?.close();
  });

  it('lists the quantisations of a GGUF catalog model with their sizes, Q4_K_M preselected, and downloads the one picked', async () => {
    await page.getByTestId('nav-models').click();
    const card = page.getByTestId('catalog-card').filter({ hasText: 'Qwen2.5 0.5B Instruct (GGUF)' });
    await expect.poll(() => card.getByTestId('catalog-download').textContent()).toMatch(/Download Q4_K_M/);
    await card.getByTestId('gguf-choose').click();
    const options = card.getByTestId('gguf-quant');
    await expect.poll(() => options.count(), { timeout: 60_000 }).toBe(3);
    const q4 = options.and(page.locator('[value="qwen2.5-0.5b-instruct-q4_k_m.gguf"]'));
    expect(await q4.isChecked()).toBe(true);
    // The split Q8_0 is shown, with why it cannot be picked.
    expect(await options.and(page.locator('[value="qwen2.5-0.5b-instruct-q8_0-00001-of-00002.gguf"]')).isDisabled()).toBe(true);
    expect(await card.getByTestId('gguf-quant-reason').textContent()).toMatch(/split into 2 files/);
    expect(await card.getByTestId('gguf-quants').textContent()).toMatch(/FP16\s*\d+(\.\d)? KB/);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'models-gguf-quants');

    await card.locator('label').filter({ hasText: 'FP16' }).click();
    expect(await card.getByTestId('catalog-download').textContent()).toMatch(/Download FP16/);
    await card.getByTestId('catalog-download').click();
    await card.getByTestId('catalog-installed').waitFor({ timeout: 60_000 });
    const installed = await page.evaluate(async () => (await window.studio.models.list({})).items.find((m) => m.source.startsWith('hf:Qwen/')) ?? null);
    expect(installed?.kind).toBe('text');
    expect(readdirSync(installed!.path).filter((n) => n.endsWith('.gguf'))).toEqual(['qwen2.5-0.5b-instruct-fp16.gguf']);
    // Downloaded as a folder, it is still named as what runs it in the Write tab's picker.
    expect(installed?.format).toBe('gguf');
    await page.getByTestId('nav-write').click();
    await expect.poll(() => page.locator('#write-model option').allTextContents()).toContain(`${installed!.name} · GGUF`);
  });

  it("adds Atelier's own loopback endpoint in Settings → Text servers, and its model appears in the Write tab", async () => {
    expect(app.served.openaiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    await page.getByTestId('nav-settings').click();
    const form = page.getByTestId('text-servers');
    await form.getByTestId('remote-url').fill(app.served.openaiUrl!);
    // Plain http, even to this computer, waits for the explicit confirmation.
    expect(await form.getByTestId('remote-test').isDisabled()).toBe(true);
    await form.getByTestId('remote-allow-http').check();
    await form.getByTestId('remote-test').click();
    await expect.poll(() => form.getByTestId('remote-offered').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/The server offers \d+ models?\./);
    const offered = await form.getByTestId('remote-model').locator('option').allTextContents();
    expect(offered).toContain(servedId);
    await form.getByTestId('remote-model').selectOption(servedId);
    await form.getByTestId('remote-name').fill('Tiny via the endpoint');
    await form.scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-text-servers');
    await form.getByTestId('remote-add').click();
    await expect.poll(() => form.getByTestId('remote-added').textContent().catch(() => ''), { timeout: 60_000 }).toContain('Tiny via the endpoint');
    expect(await form.getByTestId('remote-error').count()).toBe(0);

    await page.getByTestId('nav-write').click();
    await page.getByTestId('new-document').click();
    await expect.poll(() => page.locator('#write-model option').allTextContents()).toContain('Tiny via the endpoint · server');
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
