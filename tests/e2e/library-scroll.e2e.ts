import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLibrary } from '../../src/main/library';
import { insertGeneration } from '../../src/main/library/generations';
import { openDatabase } from '../../src/main/library/open-database';
import { screenshot, openApp, closeApp, type AppSession } from './harness';

const COUNT = 10_000;

/** Seeds rows straight into a fresh library in one transaction (no files): seconds, not minutes. */
function seedLibrary(dataDir: string): number {
  const libraryDir = path.join(dataDir, 'library');
  openLibrary(libraryDir).close(); // create and migrate
  const { db } = openDatabase(libraryDir);
  const started = performance.now();
  const base = Date.now() - COUNT * 1000;
  let asset = 0;
  db.transaction(() => {
    for (let i = 0; i < COUNT; i++) {
      const kind = i % 3 === 0 ? 'text' : i % 3 === 1 ? 'music' : 'image';
      insertGeneration(
        db,
        `seed-${String(i).padStart(6, '0')}`,
        {
          kind,
          model: 'seeded-model',
          prompt: `seeded generation number ${i} of a quiet harbour`,
          seed: i,
          params: { steps: 20, seed: i },
          outputText: kind === 'text' ? `Text output ${i}.` : null,
        },
        [],
        base + i * 1000,
        () => `asset-${asset++}`,
      );
    }
  })();
  db.close();
  return performance.now() - started;
}

describe('the library grid at 10,000 items', () => {
  let app: AppSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-scroll-'));
    const ms = seedLibrary(dataDir);
    console.log(`seeded ${COUNT} generations in ${ms.toFixed(0)} ms`);
    app = await openApp({ dataDir });
    ({ page, errors } = app);
    await page.getByTestId('nav-library').click();
    await page.getByTestId('library-item').first().waitFor({ timeout: 60_000 });
  });

  afterAll(async () => {
    await closeApp(app);
  });

  it('Ctrl+A selects every match, not only the first loaded page', async () => {
    await expect.poll(() => page.getByTestId('view-library').textContent(), { timeout: 60_000 }).toContain(`${COUNT.toLocaleString('en')} items`);
    expect(await page.locator('[data-index]').count()).toBeLessThan(COUNT);
    await page.getByTestId('library-item').first().click();
    await page.keyboard.press('Control+a');
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe(`${COUNT} selected`);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('selection-count').count()).toBe(0);
  });

  it('scrolls to the bottom with a bounded DOM, printing the longest frame', async () => {
    await expect.poll(() => page.getByTestId('view-library').textContent(), { timeout: 60_000 }).toContain(`${COUNT.toLocaleString('en')} items`);
    await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __stop: boolean };
      w.__frames = [];
      w.__stop = false;
      let last = performance.now();
      const tick = (now: number) => {
        w.__frames.push(now - last);
        last = now;
        if (!w.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const scroller = page.getByTestId('library-scroller');
    const box = await scroller.boundingBox();
    if (!box) throw new Error('no scroller');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    let maxNodes = 0;
    for (let i = 0; i < 400; i++) {
      await page.mouse.wheel(0, 2400);
      if (i % 20 === 0) maxNodes = Math.max(maxNodes, await page.getByTestId('library-item').count());
      const atBottom = await scroller.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2);
      if (atBottom && i % 10 === 0) {
        const loaded = await page.locator('[data-index]').evaluateAll((nodes) => Math.max(...nodes.map((n) => Number(n.getAttribute('data-index')))));
        if (loaded >= COUNT - 1) break;
      }
    }
    await expect
      .poll(() => page.locator('[data-index]').evaluateAll((nodes) => Math.max(...nodes.map((n) => Number(n.getAttribute('data-index'))))), { timeout: 60_000 })
      .toBe(COUNT - 1);
    const frames = await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __stop: boolean };
      w.__stop = true;
      return w.__frames.slice(2);
    });
    const sorted = [...frames].sort((a, b) => a - b);
    const longest = sorted[sorted.length - 1] ?? 0;
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
    const nodes = await page.getByTestId('library-item').count();
    maxNodes = Math.max(maxNodes, nodes);
    console.log(`library scroll: ${frames.length} frames, longest ${longest.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, median ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1)} ms; at most ${maxNodes} item nodes`);
    await screenshot(page, 'library-scroll-bottom');
    expect(maxNodes).toBeLessThan(200);
    // The frame-time target (< 50 ms) is a benchmark figure, printed above; a timed assertion would
    // flake on 2 shared cores. This bound only catches a grid that freezes outright.
    expect(longest).toBeLessThan(1000);
  });

  it('moves a selection of all 10,000 loaded items to the trash and back (the calls go in batches of 1000)', async () => {
    await page.getByTestId('library-item').last().click();
    await page.keyboard.press('Control+a');
    await expect.poll(() => page.getByTestId('selection-count').textContent()).toBe(`${COUNT} selected`);
    await page.getByTestId('bulk-delete').click();
    await expect.poll(() => page.getByText(`Moved ${COUNT} items to trash`).count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('view-library').textContent(), { timeout: 60_000 }).toContain('0 items');
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.getByTestId('view-library').textContent(), { timeout: 60_000 }).toContain(`${COUNT.toLocaleString('en')} items`);
  });

  it('reported no page errors', () => {
    expect(errors).toEqual([]);
  });
});
