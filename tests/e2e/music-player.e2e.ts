import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../scripts/fixtures/index';
import { screenshot, openApp, closeApp, importModels, type AppSession } from './harness';

/** Walks the RIFF chunks of a WAV file: its format, data length and LIST/INFO text. */
function readWav(bytes: Buffer): { sampleRate: number; channels: number; bits: number; dataBytes: number; info: string } {
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  let dataBytes = -1;
  let info = '';
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      channels = bytes.readUInt16LE(offset + 10);
      sampleRate = bytes.readUInt32LE(offset + 12);
      bits = bytes.readUInt16LE(offset + 22);
    } else if (id === 'data') dataBytes = size;
    else if (id === 'LIST') info = bytes.toString('utf8', offset + 8, offset + 8 + size);
    offset += 8 + size + (size % 2);
  }
  return { sampleRate, channels, bits, dataBytes, info };
}

describe('Music: waveform player, loop and export', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    const fx = await ensureFixtures();
    app = await openApp();
    ({ page, errors } = app);
    await page.getByTestId('nav-music').waitFor();
    await importModels(page, [{ path: fx.musicOracle, name: 'Oracle tone' }]);
    await page.getByTestId('nav-music').click();
  });

  afterAll(async () => {
    await closeApp(app);
  });

  const audio = () => page.getByTestId('music-audio').first();
  const time = () => audio().evaluate((el: HTMLAudioElement) => el.currentTime);

  it('draws the waveform of a generated piece on a canvas', async () => {
    await page.getByTestId('music-prompt').fill('a calm tone');
    await page.locator('#music-seconds').fill('4');
    await page.locator('#music-seconds').press('Tab');
    await page.getByTestId('music-generate').click();
    await page.getByTestId('music-player').first().waitFor({ timeout: 60_000 });
    const inked = () =>
      page
        .getByTestId('waveform-canvas')
        .first()
        .evaluate((canvas: HTMLCanvasElement) => {
          const context = canvas.getContext('2d');
          if (!context || canvas.width === 0) return 0;
          const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
          let count = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) count++;
          return count / (canvas.width * canvas.height);
        });
    // more than the playhead line: bars across the canvas
    await expect.poll(inked, { timeout: 60_000 }).toBeGreaterThan(0.05);
    await expect.poll(() => audio().evaluate((el: HTMLAudioElement) => el.duration), { timeout: 60_000 }).toBeGreaterThan(3.5);
    await screenshot(page, 'music-player');
  });

  it('draws the bars in the theme colours, and again when the theme changes', async () => {
    /** The commonest opaque colour across the canvas's middle row: the bars not yet played. */
    const barColour = () =>
      page
        .getByTestId('waveform-canvas')
        .first()
        .evaluate((canvas: HTMLCanvasElement) => {
          const context = canvas.getContext('2d');
          if (!context || canvas.width === 0) return null;
          const { data } = context.getImageData(0, Math.floor(canvas.height / 2), canvas.width, 1);
          const seen = new Map<string, number>();
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] !== 255) continue;
            const key = `${data[i]},${data[i + 1]},${data[i + 2]}`;
            seen.set(key, (seen.get(key) ?? 0) + 1);
          }
          return [...seen.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
        });
    // --color-border-strong: light-dark(#8c8e99, #6d7080). A canvas given the light-dark() text itself draws black.
    await expect.poll(barColour).toBe('140,142,153');
    await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'dark'));
    await expect.poll(barColour).toBe('109,112,128');
    await page.evaluate(() => document.documentElement.removeAttribute('data-theme'));
    await expect.poll(barColour).toBe('140,142,153');
  });

  it('plays (current time advances) and seeks with the keyboard', async () => {
    await page.getByTestId('music-play').first().click();
    await expect.poll(time, { timeout: 60_000 }).toBeGreaterThan(0.3);
    await page.getByTestId('music-play').first().click();
    await expect.poll(() => audio().evaluate((el: HTMLAudioElement) => el.paused)).toBe(true);

    const slider = page.getByTestId('waveform').first();
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(time).toBeLessThan(0.05);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect.poll(time).toBeCloseTo(2, 1);
    expect(Number(await slider.getAttribute('aria-valuenow'))).toBeCloseTo(2, 1);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(time).toBeCloseTo(1, 1);
    // Space toggles playback from the slider
    await page.keyboard.press('Space');
    await expect.poll(() => audio().evaluate((el: HTMLAudioElement) => el.paused)).toBe(false);
    await page.keyboard.press('Space');
    await expect.poll(() => audio().evaluate((el: HTMLAudioElement) => el.paused)).toBe(true);
  });

  it('loops playback inside a Shift+dragged region', async () => {
    const canvas = page.getByTestId('waveform-canvas').first();
    const box = (await canvas.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.keyboard.down('Shift');
    await page.mouse.move(box.x + box.width * 0.25, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, y, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Shift');
    const slider = page.getByTestId('waveform').first();
    const start = Number(await slider.getAttribute('data-loop-start'));
    const end = Number(await slider.getAttribute('data-loop-end'));
    expect(start).toBeCloseTo(1, 0);
    expect(end - start).toBeGreaterThan(0.7);
    await screenshot(page, 'music-loop');

    await page.getByTestId('music-play').first().click();
    const samples: number[] = [];
    const until = Date.now() + (end - start) * 1000 * 2.2;
    while (Date.now() < until) {
      samples.push(await time());
      await page.waitForTimeout(50);
    }
    await page.getByTestId('music-play').first().click();
    const wrapped = samples.some((value, index) => index > 0 && value < samples[index - 1]! - 0.3);
    expect(wrapped).toBe(true);
    for (const value of samples) {
      expect(value).toBeGreaterThanOrEqual(start - 0.05);
      expect(value).toBeLessThanOrEqual(end + 0.15);
    }
  });

  it('exports the loop as a WAV of the region length that says it is AI-generated', async () => {
    const slider = page.getByTestId('waveform').first();
    const start = Number(await slider.getAttribute('data-loop-start'));
    const end = Number(await slider.getAttribute('data-loop-end'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('music-export-loop').first().click()]);
    expect(download.suggestedFilename()).toMatch(/\.wav$/);
    const wav = readWav(readFileSync(await download.path()));
    expect(wav.bits).toBe(16);
    const seconds = wav.dataBytes / (wav.sampleRate * wav.channels * 2);
    expect(Math.abs(seconds - (end - start))).toBeLessThan(0.05);
    expect(wav.info).toContain('AI-generated with Atelier');
    expect(wav.info).toContain('a calm tone');

    const [whole] = await Promise.all([page.waitForEvent('download'), page.getByTestId('music-export').first().click()]);
    const full = readWav(readFileSync(await whole.path()));
    expect(full.dataBytes / (full.sampleRate * full.channels * (full.bits / 8))).toBeGreaterThan(3.5);
  });

  it('remixes with a new seed as a child of the piece', async () => {
    const parentId = await page.evaluate(async () => (await window.studio.library.list({ kind: 'music' })).items[0]!.id);
    await page.getByTestId('music-new-seed').first().click();
    await expect.poll(() => page.getByTestId('music-player').count(), { timeout: 60_000 }).toBe(2);
    const child = await page.evaluate(async () => (await window.studio.library.list({ kind: 'music' })).items[0]!);
    expect(child.parentId).toBe(parentId);
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
