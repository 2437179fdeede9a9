import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CALL_NAMES, calls } from '../../src/shared/contract';
import { spawnNodeEngine } from '../../src/main/engine-host/spawn-node';
import { createStudio, type Studio } from '../../src/main/studio';
import { startBrowserServer, type BrowserServer } from '../../src/main/transport/ws-server';

function connect(url: string, headers: Record<string, string> = {}, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** A tiny seeded generator so a failing fuzz case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [null, 0, -1, 1.5, NaN, 1e308, '', 'x', '../../etc/passwd', '\u0000', 'x'.repeat(6000), true, false, [], [1, 2], {}, { a: 1 }, { __proto__: { polluted: true } }, [null], { constructor: 'x' }];

function malformed(random: () => number, name: (typeof CALL_NAMES)[number]): unknown {
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
  const shape = (calls[name].input as unknown as { shape?: Record<string, unknown> }).shape;
  const keys = shape ? Object.keys(shape) : ['kind', 'params', 'model'];
  const roll = random();
  if (roll < 0.2) return pick(WEIRD.filter((w) => typeof w !== 'object' || w === null || Array.isArray(w)));
  const input: Record<string, unknown> = {};
  if (roll < 0.5) input[`unexpected_${Math.floor(random() * 1000)}`] = pick(WEIRD);
  for (const key of keys) if (random() < 0.7) input[key] = pick(WEIRD);
  if (name === 'jobs.start' && random() < 0.5) input.kind = pick(['text', 'image', 'music', 'video', 3]);
  return input;
}

describe('the loopback WebSocket transport', () => {
  let studio: Studio;
  let server: BrowserServer;
  let wsUrl: string;

  beforeAll(async () => {
    studio = await createStudio({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'atelier-ws-')), mode: 'browser', spawnEngine: () => spawnNodeEngine() });
    server = await startBrowserServer({ dispatch: studio.dispatch, events: studio.events, assets: studio.assets, filesRoot: studio.filesRoot });
    wsUrl = `ws://127.0.0.1:${server.port}/ws`;
  });

  afterAll(async () => {
    await server?.close();
    await studio?.close();
  });

  it('listens on loopback only and refuses to bind elsewhere', async () => {
    expect(server.url.startsWith('http://127.0.0.1:')).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'localhost.evil.example']) {
      await expect(startBrowserServer({ dispatch: studio.dispatch, events: studio.events, assets: studio.assets, filesRoot: studio.filesRoot, host })).rejects.toThrow(/loopback/);
    }
  });

  it('refuses a connection without the token, with a wrong token, or from another origin', async () => {
    const page = `http://127.0.0.1:${server.port}`;
    const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
    // A program: no Origin, the token in a header.
    await expect(connect(wsUrl)).rejects.toThrow(/401/);
    await expect(connect(wsUrl, bearer('0'.repeat(server.token.length)))).rejects.toThrow(/401/);
    await expect(connect(wsUrl, { ...bearer(server.token), Host: 'evil.example' })).rejects.toThrow(/401/);
    // The token in the URL (where logs and history keep it) no longer opens anything.
    await expect(connect(`${wsUrl}?token=${server.token}`)).rejects.toThrow(/401/);
    // A page: its Origin must be this server's, and the token comes as a subprotocol.
    await expect(connect(wsUrl, { Origin: page })).rejects.toThrow(/401/);
    await expect(connect(wsUrl, { Origin: 'https://evil.example' }, ['atelier', `atelier-token.${server.token}`])).rejects.toThrow(/401/);
    await expect(connect(wsUrl, { Origin: `http://127.0.0.1:${server.port + 1}` }, ['atelier', `atelier-token.${server.token}`])).rejects.toThrow(/401/);
    await expect(connect(wsUrl, { Origin: page, ...bearer(server.token) })).rejects.toThrow(/401/);
    const program = await connect(wsUrl, bearer(server.token));
    program.close();
    const browser = await connect(wsUrl, { Origin: page }, ['atelier', `atelier-token.${server.token}`]);
    expect(browser.protocol).toBe('atelier');
    browser.close();
  });

  it('refuses asset requests without a capability, even with the run token', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/asset/ANY`)).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${server.port}/asset/ANY?token=${server.token}`)).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${server.port}/asset/ANY`, { headers: { Cookie: `atelier_token=${server.token}` } })).status).toBe(403);
  });

  it('answers 1000+ malformed payloads with INVALID_INPUT and keeps serving', async () => {
    const ws = await connect(wsUrl, { Authorization: `Bearer ${server.token}` });
    const replies = new Map<number, { ok: boolean; error?: { code: string } }>();
    const waiting = new Map<number, () => void>();
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { id: number; result?: { ok: boolean; error?: { code: string } } };
      if (message.result) {
        replies.set(message.id, message.result);
        waiting.get(message.id)?.();
      }
    });
    const send = (id: number, name: string, input: unknown) =>
      new Promise<void>((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, name, input }));
      });
    const random = rng(20261126);
    const sent: { id: number; name: string; input: unknown }[] = [];
    let id = 0;
    while (sent.length < 1200) {
      const name = CALL_NAMES[Math.floor(random() * CALL_NAMES.length)];
      const input = malformed(random, name);
      // Only payloads the contract rejects count as malformed (some random picks happen to be valid).
      if (calls[name].input.safeParse(JSON.parse(JSON.stringify(input ?? null))).success) continue;
      sent.push({ id: ++id, name, input });
    }
    for (let i = 0; i < sent.length; i += 100) {
      await Promise.all(sent.slice(i, i + 100).map((s) => send(s.id, s.name, s.input)));
    }
    const wrong = sent.filter((s) => replies.get(s.id)?.error?.code !== 'INVALID_INPUT');
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(replies.size).toBe(sent.length);

    // Not JSON, and JSON of the wrong shape, are refused the same way.
    ws.send('{not json');
    ws.send(JSON.stringify([1, 2, 3]));
    await send(++id, 'library.list', {});
    expect(replies.get(id)).toMatchObject({ ok: true });
    ws.close();
  });
});
