import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveAsset, type AssetLookup } from '../assets/serve';
import type { Dispatch } from '../ipc/dispatch';
import type { EventBus } from '../ipc/events';

/**
 * Browser mode: the same handlers as Electron's IPC, reachable over a WebSocket bound to loopback
 * only and guarded by a random per-run token. Used by the end-to-end tests in Chromium and by
 * developers working on the UI without Electron.
 */
export interface BrowserServerOptions {
  dispatch: Dispatch;
  events: EventBus;
  assets: AssetLookup;
  filesRoot: string;
  /** Built renderer (out/renderer). When absent only /ws and /asset are served. */
  staticDir?: string;
  host?: string;
  port?: number;
  token?: string;
}

export interface BrowserServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1']);
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

export function tokensMatch(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`Browser mode only listens on loopback (127.0.0.1 or ::1), not ${host}: it would expose your library to the network.`);
  }
  const token = options.token ?? randomBytes(24).toString('hex');
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // A page on another origin could point a DNS name at 127.0.0.1; refusing foreign Host headers stops that.
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(421, { 'Content-Type': 'text/plain' }).end('Misdirected request');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/asset/')) {
      const cookieToken = /(?:^|;\s*)atelier_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (!tokensMatch(token, url.searchParams.get('token') ?? cookieToken)) {
        res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Missing or wrong token');
        return;
      }
      const id = url.pathname.slice('/asset/'.length);
      const answer = await serveAsset(options.assets, options.filesRoot, id, req.headers.range);
      res.writeHead(answer.status, answer.headers);
      if (answer.body && req.method !== 'HEAD') answer.body.pipe(res);
      else res.end();
      return;
    }
    if (!options.staticDir) {
      res.writeHead(404).end();
      return;
    }
    await serveStatic(options.staticDir, url.pathname, res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const origin = req.headers.origin;
    const originOk = !origin || [...allowedHosts()].some((h) => origin === `http://${h}`);
    const ok = url.pathname === '/ws' && allowedHosts().has(req.headers.host ?? '') && originOk && tokensMatch(token, url.searchParams.get('token'));
    if (!ok) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    const unsubscribe = options.events.subscribe((event, payload) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
    });
    ws.on('close', unsubscribe);
    ws.on('error', unsubscribe);
    ws.on('message', (data, isBinary) => {
      void (async () => {
        let id: unknown = null;
        let reply;
        try {
          if (isBinary) throw new Error('binary');
          const message: unknown = JSON.parse(data.toString());
          if (!message || typeof message !== 'object' || Array.isArray(message)) throw new Error('shape');
          const record = message as Record<string, unknown>;
          id = typeof record.id === 'number' || typeof record.id === 'string' ? record.id : null;
          reply = await options.dispatch(record.name, record.input, { transport: 'websocket' });
        } catch {
          reply = { ok: false as const, error: { code: 'INVALID_INPUT' as const, message: 'Messages must be JSON objects { id, name, input }.' } };
        }
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, result: reply }));
      })();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host === '::1' ? '[::1]' : host;
  return {
    url: `http://${shownHost}:${port}/#token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serveStatic(root: string, pathname: string, res: http.ServerResponse): Promise<void> {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const rootReal = await fs.realpath(root);
  let file = path.resolve(rootReal, '.' + path.posix.normalize('/' + relative));
  if (!file.startsWith(rootReal + path.sep) && file !== rootReal) {
    res.writeHead(403).end();
    return;
  }
  let stat = await fs.stat(file).catch(() => null);
  if (!stat || stat.isDirectory()) {
    // The renderer is a single page: unknown paths get the app shell.
    file = path.join(rootReal, 'index.html');
    stat = await fs.stat(file).catch(() => null);
    if (!stat) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('The renderer is not built: run npm run build first.');
      return;
    }
  }
  res.writeHead(200, {
    'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': String(stat.size),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  });
  createReadStream(file).pipe(res);
}
