import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { closeApp, importModels, openApp, screenshot, type AppSession } from './harness';

describe('Write with a GGUF model (llama.cpp) in Chromium', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];
  let ggufId = '';

  beforeAll(async () => {
    const fx = await ensureFixtures();
    app = await openApp();
    ({ page, errors } = app);
    // The ONNX writer is imported first, so it is the one picked by default.
    [, ggufId] = await importModels(page, [
      { path: fx.textOracle, name: 'Oracle writer' },
      { path: fx.ggufLlama, name: 'Tiny llama' },
    ]);
  });

  afterAll(async () => {
    await closeApp(app);
  });

  it('picks the GGUF model in the Write tab and streams its suggestion into the editor', async () => {
    // Forced CPU, as Settings → Performance sets it: the same on machines with a GPU.
    await page.evaluate(async () => window.studio.settings.set({ provider: 'cpu' }));
    await page.getByTestId('nav-write').click();
    await page.getByTestId('new-document').click();
    await page.locator('.cm-content').click();
    await page.keyboard.type('The lighthouse keeper found a map.');
    await expect.poll(() => page.locator('#write-model option').allTextContents()).toContain('Tiny llama · GGUF');
    await page.locator('#write-model').selectOption(ggufId);

    await page.getByTestId('ai-continue').click();
    const job = await expect
      .poll(() => page.evaluate(async () => (await window.studio.jobs.list({})).items[0] ?? null), { timeout: 60_000 })
      .toMatchObject({ kind: 'text', state: 'done' })
      .then(() => page.evaluate(async () => (await window.studio.jobs.list({})).items[0]!));
    expect(job.params['model']).toBe(ggufId);
    const generation = await page.evaluate(async (id) => window.studio.library.get({ id }), job.generationIds[0]!);
    expect(generation.provider).toBe('cpu');
    expect(generation.outputText!.length).toBeGreaterThan(0);
    // what streamed into the suggestion is exactly what llama.cpp generated
    await expect.poll(() => page.getByTestId('suggestion').textContent(), { timeout: 60_000 }).toBe(generation.outputText);
    await screenshot(page, 'write-gguf-suggestion');
    expect(errors).toEqual([]);
  });
});
