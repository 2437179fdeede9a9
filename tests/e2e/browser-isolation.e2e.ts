import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_CAPABILITY_STEP_MS, ASSET_CAPABILITY_TTL_MS } from '../../src/shared/asset-capability';
import { insertChunks, textChunk } from '../../src/shared/png-chunks';
import { spawnNodeEngine } from '../../src/main/engine-host/spawn-node';
import { contentSecurityPolicy } from '../../src/main/shell/security';
import { createStudio, type Studio } from '../../src/main/studio';
import { startBrowserServer, type BrowserServer } from '../../src/main/transport/ws-server';
import { ROOT, launchChromium, watchErrors } from './harness';

/**
 * Another web server on 127.0.0.1 (any dev server the user runs, or a page it serves) shares the
 * host with browser mode. Its pages must not reach the library: no cookie of ours reaches it, its
 * WebSocket is refused even with the token, and asset links need a valid, unexpired capability.
 */
describe('a page of another server on 127.0.0.1 cannot read the library', () => {
  let studio: Studio;
  let server: BrowserServer;
  let clock = Date.now();
  let browser: Browser;
  let context: BrowserContext;
  let appPage: Page;
  let errors: string[];
  let other: http.Server;
  let otherOrigin: string;
  const cookiesSeenByOther: string[] = [];

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-isolation-'));
    studio = await createStudio({ dataDir, mode: 'browser', spawnEngine: () => spawnNodeEngine() });
    const folder = path.join(dataDir, 'incoming');
    mkdirSync(folder);
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c03030' } }).png().toBuffer();
    writeFileSync(path.join(folder, 'red.png'), insertChunks(png, [textChunk('parameters', 'a red square\nSteps: 4, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 32x32, Model: m')]));
    const imported = await studio.dispatch('library.importFolder', { path: folder }, { transport: 'cli' });
    if (!imported.ok) throw new Error(imported.error.message);
    server = await startBrowserServer({ dispatch: studio.dispatch, events: studio.events, assets: studio.assets, filesRoot: studio.filesRoot, staticDir: path.join(ROOT, 'out', 'renderer'), now: () => clock });

    other = http.createServer((req, res) => {
      cookiesSeenByOther.push(req.headers.cookie ?? '');
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>another local server</title>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;

    browser = await launchChromium();
    context = await browser.newContext();
    appPage = await context.newPage();
    errors = watchErrors(appPage);
    await appPage.goto(server.url);
    await appPage.getByTestId('nav-write').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => other?.close(resolve));
    await server?.close();
    await studio?.close();
  });

  /** The thumbnail URL the Library view uses (a capability for that one asset). */
  async function thumbnailUrl(): Promise<string> {
    await appPage.getByTestId('nav-library').click();
    const thumb = appPage.getByTestId('library-item').locator('img').first();
    await thumb.waitFor();
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(32);
    return new URL((await thumb.getAttribute('src'))!, server.url).toString();
  }

  it('the app page itself loads its thumbnails, under the one policy, without errors', async () => {
    const url = await thumbnailUrl();
    expect(url).toMatch(/\/asset\/[\w-]+\?exp=\d+&sig=[0-9a-f]{64}$/);
    expect(url).not.toContain(server.token);
    const policy = await appPage.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(policy).toBe(contentSecurityPolicy(false));
    expect(await context.cookies()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('sends no cookie of ours to the other server', async () => {
    const evil = await context.newPage();
    await evil.goto(`${otherOrigin}/asset/probe`);
    await evil.evaluate(() => fetch('/asset/probe', { credentials: 'include' }).then(() => undefined));
    expect(cookiesSeenByOther.length).toBeGreaterThanOrEqual(2);
    expect(cookiesSeenByOther.filter((c) => c.includes('atelier'))).toEqual([]);
    await evil.close();
  });

  it("refuses the other page's WebSocket, even when it knows the token", async () => {
    const evil = await context.newPage();
    await evil.goto(`${otherOrigin}/`);
    const outcomes = await evil.evaluate(
      async ([wsUrl, token]) => {
        const attempt = (protocols: string[]) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(wsUrl, protocols);
            ws.onopen = () => resolve('open');
            ws.onerror = () => resolve('refused');
          });
        return [await attempt([]), await attempt(['atelier', `atelier-token.${token}`])];
      },
      [`ws://127.0.0.1:${server.port}/ws`, server.token] as const,
    );
    expect(outcomes).toEqual(['refused', 'refused']);
    await evil.close();
  });

  it('answers asset links without a valid capability, or with an expired one, with 403', async () => {
    const url = await thumbnailUrl();
    const id = /\/asset\/([\w-]+)\?/.exec(url)![1]!;
    const evil = await context.newPage();
    await evil.goto(`${otherOrigin}/`);
    // Embedding from the other origin fails even with a valid link (Cross-Origin-Resource-Policy).
    const embedded = await evil.evaluate(
      (src) =>
        new Promise<string>((resolve) => {
          const img = new Image();
          img.onload = () => resolve('loaded');
          img.onerror = () => resolve('blocked');
          img.src = src;
        }),
      url,
    );
    expect(embedded).toBe('blocked');
    await evil.close();
    // Opened as a copied link is: in a browser profile of its own, so no cached answer stands in for the server's.
    const status = async (target: string) => {
      const elsewhere = await browser.newContext();
      try {
        return (await (await elsewhere.newPage()).goto(target))?.status();
      } finally {
        await elsewhere.close();
      }
    };
    expect(await status(`http://127.0.0.1:${server.port}/asset/${id}`)).toBe(403);
    expect(await status(`http://127.0.0.1:${server.port}/asset/${id}?token=${server.token}`)).toBe(403);
    expect(await status(url.replace(/sig=[0-9a-f]{8}/, 'sig=00000000'))).toBe(403);
    expect(await status(url)).toBe(200);
    clock += ASSET_CAPABILITY_TTL_MS + ASSET_CAPABILITY_STEP_MS;
    expect(await status(url)).toBe(403);
  });
});
