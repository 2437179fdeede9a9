import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageFixtures } from '../../scripts/fixtures/image';
import { oraclePicture } from '../../scripts/fixtures/image-oracle';
import { encodeImagePng } from '../../src/engine/media/png';
import { openLibraryReader } from '../../src/main/library';
import { dataLayout } from '../../src/main/paths';
import { closeApp, importModels, openApp, screenshot, type AppSession } from './harness';

const S = 128;
const PROMPT = 'a patterned harbour';

/**
 * The oracle's own picture under a ±6 checkerboard (zero mean over every 8×8 block, so the oracle
 * stays on course): inpainting replaces the pattern by the clean picture inside the mask only.
 */
function initPicture(): Uint8Array {
  const px = oraclePicture(S, S);
  for (let i = 0; i < S * S; i++) {
    const d = ((i % S) + Math.floor(i / S)) % 2 === 0 ? 6 : -6;
    for (let k = 0; k < 3; k++) px[i * 3 + k] = Math.min(255, Math.max(0, px[i * 3 + k]! + d));
  }
  return px;
}

describe('inpainting in Chromium', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];
  const init = initPicture();

  beforeAll(async () => {
    const images = await ensureImageFixtures();
    const folder = mkdtempSync(path.join(os.tmpdir(), 'atelier-inpaint-init-'));
    const params = { model: 'import', prompt: PROMPT, negativePrompt: '', width: S, height: S, steps: 4, guidance: 7, scheduler: 'euler' as const, batch: 1, strength: 0.75, seed: 1 };
    writeFileSync(path.join(folder, 'init.png'), encodeImagePng(init, S, S, 3, params));
    app = await openApp();
    ({ page, errors } = app);
    await importModels(page, [{ path: images.imageOracle, name: 'Oracle painter' }]);
    const imported = await page.evaluate(async (p) => window.studio.library.importFolder({ path: p }), folder);
    expect(imported.imported).toBe(1);
    await page.reload();
    await page.getByTestId('nav-write').waitFor();
  });

  afterAll(async () => {
    await closeApp(app);
  });

  /** Painted pixels (alpha ≥ 128) of the mask editor's canvas. */
  const paintedCount = (): Promise<number> =>
    page.getByTestId('mask-canvas').evaluate((el) => {
      const canvas = el as HTMLCanvasElement;
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! >= 128) n++;
      return n;
    });

  /** The stored file's pixels, read from the library folder beside the running app (read-only). */
  async function assetPixels(id: string, channels: 1 | 3): Promise<Buffer> {
    const reader = openLibraryReader(dataLayout(app.served.dataDir).libraryDir);
    if (!reader) throw new Error('the library has no database yet');
    let bytes: Buffer;
    try {
      const file = reader.resolveAsset(id);
      if (!file) throw new Error(`asset ${id} is not in the library`);
      bytes = readFileSync(file.path);
    } finally {
      reader.close();
    }
    const img = sharp(bytes).removeAlpha();
    return (channels === 1 ? img.greyscale() : img).raw().toBuffer();
  }

  it('paints a mask with the mouse (undo/redo), regenerates only the masked part, keeps the mask with the picture and a remix restores it', async () => {
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-item').filter({ hasText: PROMPT }).click();
    await page.getByTestId('library-inpaint').click();
    await page.getByTestId('mask-canvas').waitFor();
    await page.getByTestId('image-prompt').fill('a clean harbour');
    await page.locator('#image-strength').fill('1');
    await page.locator('#image-strength').press('Tab');
    await page.locator('#image-steps').fill('8');
    await page.locator('#image-steps').press('Tab');
    await page.getByTestId('mask-size').fill('40');

    // A stroke across the upper left of the picture.
    await expect.poll(async () => (await page.getByTestId('mask-canvas').boundingBox())?.width ?? 0).toBeGreaterThan(100);
    const box = (await page.getByTestId('mask-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.35, { steps: 12 });
    await page.mouse.up();
    const painted = await paintedCount();
    expect(painted).toBeGreaterThan(800);
    await expect.poll(() => page.getByTestId('mask-state').textContent()).toBe('Mask painted');

    // Undo and redo, with the buttons and with the keyboard.
    await page.getByTestId('mask-undo').click();
    expect(await paintedCount()).toBe(0);
    await expect.poll(() => page.getByTestId('mask-state').count()).toBe(0);
    await page.getByTestId('mask-redo').click();
    expect(await paintedCount()).toBe(painted);
    await page.keyboard.press('Control+z');
    expect(await paintedCount()).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    expect(await paintedCount()).toBe(painted);
    await screenshot(page, 'inpaint-mask');

    const before = await page.evaluate(async () => (await window.studio.jobs.list({})).items.length);
    await page.getByTestId('image-generate').click();
    await expect.poll(async () => page.evaluate(async () => (await window.studio.jobs.list({})).items[0]?.state), { timeout: 60_000 }).toMatch(/done|failed|cancelled/);
    const job = await page.evaluate(async () => (await window.studio.jobs.list({})).items[0]!);
    expect(job.state).toBe('done');
    expect(before).toBe(0);
    const made = await page.evaluate(async (id) => window.studio.library.get({ id }), job.generationIds[0]!);
    const picture = made.assets.find((a) => a.role === 'image')!;
    const maskAsset = made.assets.find((a) => a.role === 'mask')!;
    expect(maskAsset).toBeDefined();
    expect(made.params.maskAssetId).toEqual(expect.any(String));
    expect(made.params.maskBlur).toBe(4);

    // Only the masked part changed: pixels farther than the blur (4 px) from the mask are the input's.
    const out = await assetPixels(picture.id, 3);
    const mask = await assetPixels(maskAsset.id, 1);
    expect(out.length).toBe(S * S * 3);
    const near = (X: number, Y: number, r: number): boolean => {
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if ((mask[(Y + dy) * S + X + dx] ?? 0) >= 128 && X + dx >= 0 && X + dx < S) return true;
      return false;
    };
    const core = (X: number, Y: number, r: number): boolean => {
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if ((mask[(Y + dy) * S + X + dx] ?? 0) < 128 || X + dx < 0 || X + dx >= S) return false;
      return true;
    };
    let outside = 0;
    let outsideDiffer = 0;
    let inside = 0;
    let insideDiffer = 0;
    for (let Y = 0; Y < S; Y++) {
      for (let X = 0; X < S; X++) {
        const i = (Y * S + X) * 3;
        const differs = out[i] !== init[i] || out[i + 1] !== init[i + 1] || out[i + 2] !== init[i + 2];
        if (!near(X, Y, 5)) {
          outside++;
          if (differs) outsideDiffer++;
        } else if (core(X, Y, 12)) {
          inside++;
          if (differs) insideDiffer++;
        }
      }
    }
    expect(outside).toBeGreaterThan(S * S * 0.5);
    expect(outsideDiffer).toBe(0);
    expect(inside).toBeGreaterThan(50);
    expect(insideDiffer).toBeGreaterThan(inside * 0.8);

    // The library shows the mask; a remix brings it back into the editor, pixel for pixel.
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-item').filter({ hasText: 'a clean harbour' }).click();
    await page.getByTestId('library-mask').waitFor();
    await page.getByTestId('library-remix').click();
    await page.getByTestId('mask-canvas').waitFor();
    await expect.poll(() => page.getByTestId('mask-state').textContent()).toBe('Mask stored');
    let white = 0;
    for (const v of mask) if (v >= 128) white++;
    await expect.poll(paintedCount, { timeout: 60_000 }).toBe(white);
    await screenshot(page, 'inpaint-remix');
    expect(errors).toEqual([]);
  });

  it('outpaints from the Image view: the canvas is previewed before it runs, one too large is refused there, and the result has the margins', async () => {
    // Continues from the remix above: its picture is the init image, 128 × 128.
    const margin = async (side: string, px: number): Promise<void> => {
      await page.getByTestId(`outpaint-${side}`).fill(String(px));
      await page.getByTestId(`outpaint-${side}`).press('Tab');
    };
    await margin('left', 64);
    await margin('right', 32);
    await expect.poll(() => page.getByTestId('outpaint-result').textContent()).toMatch(/Result 224 × 128/);
    await page.getByTestId('outpaint-preview').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshot(page, 'outpaint-preview');

    // Too large: said under the margins, and Generate refuses before any job is made.
    await margin('left', 1024);
    await margin('right', 1024);
    await expect.poll(() => page.getByTestId('outpaint-result').textContent()).toMatch(/2176 × 128 is too large: keep each side within 2048/);
    const jobsBefore = await page.evaluate(async () => (await window.studio.jobs.list({})).items.length);
    await page.getByTestId('image-generate').click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'outpainted picture would be 2176 × 128' }).count()).toBe(1);
    expect(await page.evaluate(async () => (await window.studio.jobs.list({})).items.length)).toBe(jobsBefore);

    await margin('left', 64);
    await margin('right', 32);
    await page.getByTestId('image-generate').click();
    await expect.poll(async () => page.evaluate(async () => (await window.studio.jobs.list({})).items.length), { timeout: 60_000 }).toBe(jobsBefore + 1);
    await expect.poll(async () => page.evaluate(async () => (await window.studio.jobs.list({})).items[0]?.state), { timeout: 60_000 }).toMatch(/done|failed|cancelled/);
    const job = await page.evaluate(async () => (await window.studio.jobs.list({})).items[0]!);
    expect(job.state).toBe('done');
    const made = await page.evaluate(async (id) => window.studio.library.get({ id }), job.generationIds[0]!);
    expect(made.params.outpaint).toEqual({ left: 64, top: 0, right: 32, bottom: 0 });
    const picture = made.assets.find((a) => a.role === 'image')!;
    expect((await assetPixels(picture.id, 3)).length).toBe(224 * 128 * 3);
    expect(errors).toEqual([]);
  });
});
