import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkAssetCapability } from '../../shared/asset-capability';
import { serveAsset, type AssetLookup } from '../assets/serve';
import type { Dispatch } from '../ipc/dispatch';
import type { EventBus } from '../ipc/events';
import { FRAME_ANCESTORS_POLICY, contentSecurityPolicy } from '../shell/security';
import { PORT_FILE_NAME, listenOnRememberedPort } from './remembered-port';

/**
 * Browser mode: the same handlers as Electron's IPC, reachable over a WebSocket bound to loopback
 * only and guarded by a random per-run token. Used by the end-to-end tests in Chromium and by
 * developers working on the UI without Electron.
 *
 * Loopback is shared with every other local web server the user's browser visits, and cookies are
 * not port-scoped, so the master token never sits in a cookie or a URL the page loads. A browser
 * page proves itself with an `Origin` of this server plus the token as a WebSocket subprotocol; a
 * program (no `Origin`) sends `Authorization: Bearer <token>`. Assets load with per-asset
 * capabilities signed under a key the server hands its page over that socket.
 */
export interface BrowserServerOptions {
  dispatch: Dispatch;
  events: EventBus;
  assets: AssetLookup;
  filesRoot: string;
  /** Built renderer (out/renderer). When absent only /ws and /asset are served. */
  staticDir?: string;
  host?: string;
  /** A fixed port; without one the library's remembered port (see `portFile`) or, the first time, any free one. */
  port?: number;
  /**
   * Where the library remembers its browser-mode port, so the page's origin (and its storage)
   * survives restarts. Default: browser-port.json in the library folder (the parent of
   * `filesRoot`); null: never remember.
   */
  portFile?: string | null;
  token?: string;
  /** The clock asset capabilities are checked against; tests inject one. */
  now?: () => number;
}

export interface BrowserServer {
  url: string;
  port: number;
  token: string;
  /** The remembered port when it was taken and this run listens elsewhere (the page's storage is then not the usual one). */
  rememberedPortTaken: number | null;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1']);
/** The subprotocol a browser page asks for; the token travels as a second one, `atelier-token.<token>`. */
export const WS_PROTOCOL = 'atelier';
export const WS_TOKEN_PROTOCOL_PREFIX = 'atelier-token.';
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

function tokenFromProtocols(header: string | undefined): string | null {
  for (const protocol of (header ?? '').split(',')) {
    const trimmed = protocol.trim();
    if (trimmed.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return trimmed.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return null;
}

function bearerToken(header: string | undefined): string | null {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? null;
}

/** Sent with the app shell: the same policy as the meta tag, plus what only a header can say. */
const PAGE_HEADERS = {
  'Content-Security-Policy': `${contentSecurityPolicy(false)}, ${FRAME_ANCESTORS_POLICY}`,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(`Browser mode only listens on loopback (127.0.0.1 or ::1), not ${host}: it would expose your library to the network.`);
  }
  const token = options.token ?? randomBytes(24).toString('hex');
  // Signs asset capabilities; given to this server's own page, never derived from the master token.
  const assetKey = randomBytes(32);
  const now = options.now ?? Date.now;
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const allowedOrigins = () => new Set([...allowedHosts()].map((h) => `http://${h}`));

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
      const id = url.pathname.slice('/asset/'.length);
      const verdict = checkAssetCapability(assetKey, id, url.searchParams, now());
      if (verdict !== 'ok') {
        const reason = verdict === 'expired' ? 'This asset link has expired; reload the page.' : 'This asset link is not valid here.';
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Cross-Origin-Resource-Policy': 'same-origin' }).end(reason);
        return;
      }
      const answer = await serveAsset(options.assets, options.filesRoot, id, req.headers.range);
      // Cached no longer than the capability lives; other origins' pages may not embed it even with a leaked link.
      const secondsLeft = Math.max(0, Math.floor((Number(url.searchParams.get('exp')) - now()) / 1000));
      const headers = { ...answer.headers, 'Cross-Origin-Resource-Policy': 'same-origin' };
      if ('Cache-Control' in headers) headers['Cache-Control'] = `private, max-age=${secondsLeft}`;
      res.writeHead(answer.status, headers);
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

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // A browser offering subprotocols closes the socket unless one is chosen; never echo the token one.
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });

  /** A page of this server (its Origin, token as subprotocol), or a program (no Origin, token in a header). */
  function authorizeUpgrade(req: http.IncomingMessage): boolean {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (url.pathname !== '/ws' || !allowedHosts().has(req.headers.host ?? '')) return false;
    const origin = req.headers.origin;
    if (origin === undefined) return tokensMatch(token, bearerToken(req.headers.authorization));
    return allowedOrigins().has(origin) && tokensMatch(token, tokenFromProtocols(req.headers['sec-websocket-protocol']));
  }

  server.on('upgrade', (req, socket, head) => {
    if (!authorizeUpgrade(req)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    // First message: the key this page signs asset capabilities with.
    ws.send(JSON.stringify({ hello: { assetKey: assetKey.toString('hex') } }));
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

  const portFile = options.portFile === undefined ? path.join(path.dirname(options.filesRoot), PORT_FILE_NAME) : options.portFile;
  const { rememberedPortTaken } = await listenOnRememberedPort(server, host, { port: options.port, portFile });
  port = (server.address() as AddressInfo).port;
  const shownHost = host === '::1' ? '[::1]' : host;
  return {
    url: `http://${shownHost}:${port}/#token=${token}`,
    port,
    token,
    rememberedPortTaken,
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
    ...PAGE_HEADERS,
    'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': String(stat.size),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  });
  createReadStream(file).pipe(res);
}
