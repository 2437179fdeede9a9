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

export function contentSecurityPolicy(dev: boolean): string {
  const connect = dev ? "'self' ws://localhost:* http://localhost:*" : "'self'";
  const script = dev ? "'self' 'unsafe-inline'" : "'self'";
  return [
    "default-src 'self'",
    `script-src ${script}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: asset:",
    "media-src 'self' blob: asset:",
    `connect-src ${connect} asset:`,
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
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
