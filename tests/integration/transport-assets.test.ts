import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hexToBytes } from '@noble/hashes/utils';
import { ASSET_CAPABILITY_TTL_MS, ASSET_CAPABILITY_STEP_MS, assetCapabilityQuery, signAssetCapability } from '../../src/shared/asset-capability';
import { insertChunks, textChunk } from '../../src/shared/png-chunks';
import type { Generation } from '../../src/shared/contract';
import { spawnNodeEngine } from '../../src/main/engine-host/spawn-node';
import { createStudio, type Studio } from '../../src/main/studio';
import { startBrowserServer, type BrowserServer } from '../../src/main/transport/ws-server';

/** The key the server hands its page in the first message of an authenticated socket. */
function helloKey(url: string, origin: string, token: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['atelier', `atelier-token.${token}`], { headers: { Origin: origin } });
    ws.once('message', (data) => {
      const hello = (JSON.parse(String(data)) as { hello?: { assetKey: string } }).hello;
      ws.close();
      if (hello) resolve(hexToBytes(hello.assetKey));
      else reject(new Error('the first message was not the hello'));
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('browser-mode assets load by per-asset capability', () => {
  let studio: Studio;
  let server: BrowserServer;
  let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
  let key: Uint8Array;
  let image: string;
  let other: string;
  let base: string;

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-assets-'));
    studio = await createStudio({ dataDir, mode: 'browser', spawnEngine: () => spawnNodeEngine() });
    const folder = path.join(dataDir, 'incoming');
    mkdirSync(folder);
    for (const [name, colour] of [['red', '#ff0000'], ['blue', '#0000ff']] as const) {
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: colour } }).png().toBuffer();
      const params = `a ${name} square\nSteps: 4, Sampler: Euler, CFG scale: 5, Seed: 1, Size: 8x8, Model: m`;
      writeFileSync(path.join(folder, `${name}.png`), insertChunks(png, [textChunk('parameters', params)]));
    }
    const imported = await studio.dispatch('library.importFolder', { path: folder }, { transport: 'cli' });
    if (!imported.ok) throw new Error(imported.error.message);
    const page = await studio.dispatch('library.list', {}, { transport: 'cli' });
    if (!page.ok) throw new Error(page.error.message);
    const items = (page.value as { items: Generation[] }).items;
    [image, other] = items.map((g) => g.assets[0]!.id) as [string, string];
    server = await startBrowserServer({ dispatch: studio.dispatch, events: studio.events, assets: studio.assets, filesRoot: studio.filesRoot, now: () => clock });
    base = `http://127.0.0.1:${server.port}`;
    key = await helloKey(`ws://127.0.0.1:${server.port}/ws`, base, server.token);
  });

  afterAll(async () => {
    await server?.close();
    await studio?.close();
  });

  it('serves an asset to a valid capability, cached no longer than it lives and for this origin only', async () => {
    const response = await fetch(`${base}/asset/${image}?${assetCapabilityQuery(key, image, clock)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge * 1000).toBeLessThanOrEqual(ASSET_CAPABILITY_TTL_MS + ASSET_CAPABILITY_STEP_MS);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect((await sharp(bytes).metadata()).width).toBe(8);
  });

  it('refuses the same link once it has expired', async () => {
    const url = `${base}/asset/${image}?${assetCapabilityQuery(key, image, clock)}`;
    expect((await fetch(url)).status).toBe(200);
    const before = clock;
    try {
      clock += ASSET_CAPABILITY_TTL_MS + ASSET_CAPABILITY_STEP_MS;
      const expired = await fetch(url);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toMatch(/expired/);
    } finally {
      clock = before;
    }
  });

  it('a capability opens its own asset only, and cannot be stretched', async () => {
    expect((await fetch(`${base}/asset/${other}?${assetCapabilityQuery(key, image, clock)}`)).status).toBe(403);
    const farAway = clock + 24 * 3600_000;
    expect((await fetch(`${base}/asset/${image}?exp=${farAway}&sig=${signAssetCapability(key, image, farAway)}`)).status).toBe(403);
    const wrongKey = new Uint8Array(32);
    expect((await fetch(`${base}/asset/${image}?${assetCapabilityQuery(wrongKey, image, clock)}`)).status).toBe(403);
    expect((await fetch(`${base}/asset/${image}`)).status).toBe(403);
    expect((await fetch(`${base}/asset/${image}?token=${server.token}`)).status).toBe(403);
  });

  it('sends the page with the same Content-Security-Policy as the meta tag, and refuses framing', async () => {
    const { contentSecurityPolicy } = await import('../../src/main/shell/security');
    const staticServer = await startBrowserServer({ dispatch: studio.dispatch, events: studio.events, assets: studio.assets, filesRoot: studio.filesRoot, staticDir: path.join(__dirname, '../../src/renderer') });
    try {
      const response = await fetch(`http://127.0.0.1:${staticServer.port}/index.html`);
      const policies = (response.headers.get('content-security-policy') ?? '').split(', ');
      expect(policies).toEqual([contentSecurityPolicy(false), "frame-ancestors 'none'"]);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    } finally {
      await staticServer.close();
    }
  });
});
