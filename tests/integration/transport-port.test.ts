import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/main/ipc/events';
import { startBrowserServer, type BrowserServer } from '../../src/main/transport/ws-server';

let library: string;
const open: BrowserServer[] = [];

function start(extra: { port?: number; portFile?: string | null } = {}): Promise<BrowserServer> {
  return startBrowserServer({
    dispatch: async () => ({ ok: true, value: null }),
    events: new EventBus(),
    assets: { resolveAsset: () => null },
    filesRoot: path.join(library, 'files'),
    ...extra,
  }).then((server) => {
    open.push(server);
    return server;
  });
}

async function stop(server: BrowserServer): Promise<void> {
  open.splice(open.indexOf(server), 1);
  await server.close();
}

beforeEach(() => {
  library = mkdtempSync(path.join(os.tmpdir(), 'atelier-port-'));
  mkdirSync(path.join(library, 'files'));
});

afterEach(async () => {
  for (const server of open.splice(0)) await server.close();
  rmSync(library, { recursive: true, force: true });
});

describe('browser mode keeps one port per library', () => {
  it('listens on the same port after a restart, so the page keeps its origin', async () => {
    const first = await start();
    expect(JSON.parse(readFileSync(path.join(library, 'browser-port.json'), 'utf8'))).toEqual({ port: first.port });
    await stop(first);
    const second = await start();
    expect(second.port).toBe(first.port);
    expect(second.rememberedPortTaken).toBeNull();
  });

  it('falls back to another port when the remembered one is taken, and keeps remembering it', async () => {
    const first = await start();
    const remembered = first.port;
    await stop(first);
    const squatter = http.createServer();
    await new Promise<void>((resolve) => squatter.listen(remembered, '127.0.0.1', resolve));
    try {
      const fallback = await start();
      expect(fallback.port).not.toBe(remembered);
      expect(fallback.rememberedPortTaken).toBe(remembered);
      await stop(fallback);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    expect(JSON.parse(readFileSync(path.join(library, 'browser-port.json'), 'utf8'))).toEqual({ port: remembered });
    expect((await start()).port).toBe(remembered);
  });

  it('a port given explicitly wins and is not remembered; portFile null remembers nothing', async () => {
    const any = await start({ portFile: null });
    expect(existsSync(path.join(library, 'browser-port.json'))).toBe(false);
    const port = any.port;
    await stop(any);
    await start({ port });
    expect(existsSync(path.join(library, 'browser-port.json'))).toBe(false);
  });
});
