/**
 * The security rules of the Electron shell as plain functions, so each rule has a test without
 * the Electron binary. `index.ts` wires them into the real app, window and session objects.
 */

export const IPC_CHANNEL = 'studio:call';
export const EVENT_CHANNEL = 'studio:event';

/** Hosts whose https pages may be opened in the user's browser (model cards, licences, docs). */
export const EXTERNAL_ALLOW_LIST = new Set([
  'huggingface.co',
  'github.com',
  'creativecommons.org',
  'opensource.org',
  'www.apache.org',
  'onnxruntime.ai',
]);

export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: true,
  } as const;
}

export function isAllowedExternalUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === 'https:' && url.username === '' && url.password === '' && url.port === '' && EXTERNAL_ALLOW_LIST.has(url.hostname);
}

/** The renderer's own origin: the packaged file, or the dev server in development. */
export function isAppUrl(raw: string, appUrl: string): boolean {
  try {
    const url = new URL(raw);
    const app = new URL(appUrl);
    if (app.protocol === 'file:') return url.protocol === 'file:' && url.pathname === app.pathname;
    return url.origin === app.origin;
  } catch {
    return false;
  }
}

export interface SenderFrame {
  url: string;
  /** True when the frame is the window's top frame (not an iframe). */
  isMainFrame: boolean;
}

/** IPC is answered only for the app's own top-level page, never for iframes or navigated-away pages. */
export function isTrustedSender(frame: SenderFrame | null | undefined, appUrl: string): boolean {
  return !!frame && frame.isMainFrame && isAppUrl(frame.url, appUrl);
}

export type WindowOpenDecision = { action: 'deny'; openExternally: boolean };

/** window.open never creates an Electron window; allow-listed https links go to the user's browser. */
export function decideWindowOpen(url: string): WindowOpenDecision {
  return { action: 'deny', openExternally: isAllowedExternalUrl(url) };
}

/** Navigation away from the app is always blocked (links to allow-listed sites open externally). */
export function decideNavigation(url: string, appUrl: string): 'allow' | 'block' {
  return isAppUrl(url, appUrl) ? 'allow' : 'block';
}

/** Camera, microphone, notifications, geolocation…: the studio needs none, so all are denied. */
export function decidePermission(_permission: string): false {
  return false;
}

/**
 * Where the renderer loads or fetches from, by directive. This one table is the Content-Security-
 * Policy of the page twice over: the build writes it into index.html's meta tag (see
 * `injectContentSecurityPolicy`, called from electron.vite.config.ts) and the desktop shell and the
 * browser-mode server send it as a header. A browser enforces both, so two hand-kept copies that
 * drift apart block whatever only one of them allows (fetch('asset://…') in the Music view did).
 */
export function cspDirectives(dev: boolean): Record<string, string[]> {
  return {
    'default-src': ["'self'"],
    'script-src': dev ? ["'self'", "'unsafe-inline'"] : ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    // Thumbnails and images by asset URL, step previews as data: URLs, pasted and dropped images as blob: URLs.
    'img-src': ["'self'", 'data:', 'blob:', 'asset:'],
    'media-src': ["'self'", 'blob:', 'asset:'],
    // fetch(asset URL) decodes audio and reads waveform peaks; browser mode talks over a loopback WebSocket.
    'connect-src': dev ? ["'self'", 'asset:', 'ws://127.0.0.1:*', 'ws://localhost:*', 'http://localhost:*'] : ["'self'", 'asset:', 'ws://127.0.0.1:*', 'ws://localhost:*'],
    'font-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-src': ["'none'"],
  };
}

export function contentSecurityPolicy(dev: boolean): string {
  return Object.entries(cspDirectives(dev))
    .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
    .join('; ');
}

/**
 * `frame-ancestors` is ignored (with a console error) in a meta tag, so it travels as a second
 * header policy; browsers enforce every policy they are given.
 */
export const FRAME_ANCESTORS_POLICY = "frame-ancestors 'none'";

/** The marker index.html carries where the build writes the policy. */
export const CSP_PLACEHOLDER = '%ATELIER_CSP%';

export function injectContentSecurityPolicy(html: string, dev: boolean): string {
  if (!html.includes(CSP_PLACEHOLDER)) throw new Error(`index.html has no ${CSP_PLACEHOLDER} for the Content-Security-Policy meta tag.`);
  return html.replaceAll(CSP_PLACEHOLDER, contentSecurityPolicy(dev));
}

/**
 * Pulls the asset id out of `asset://library/<id>`. The id sits in the path, not the host, because
 * Chromium case-folds hosts of standard schemes and ids are case-sensitive. Anything else is refused.
 */
export function assetIdFromUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'asset:' || url.hostname.toLowerCase() !== 'library' || url.search || url.username || url.port) return null;
  const match = /^\/([^/]+)\/?$/.exec(url.pathname);
  return match ? match[1] : null;
}
