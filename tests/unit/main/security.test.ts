import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin, UserConfig } from 'vite';
import { describe, expect, it } from 'vitest';
import electronViteConfig from '../../../electron.vite.config';
import {
  FRAME_ANCESTORS_POLICY,
  assetIdFromUrl,
  contentSecurityPolicy,
  decideNavigation,
  decidePermission,
  decideWindowOpen,
  isAllowedExternalUrl,
  isTrustedSender,
  secureWebPreferences,
} from '../../../src/main/shell/security';

const APP_FILE = 'file:///opt/Atelier/resources/app/out/renderer/index.html';
const APP_DEV = 'http://localhost:5173/';

describe('Electron shell security rules', () => {
  it('creates windows sandboxed, context-isolated and without Node', () => {
    const prefs = secureWebPreferences('/app/preload.js');
    expect(prefs).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, webSecurity: true, webviewTag: false, allowRunningInsecureContent: false });
  });

  it('denies every window.open and only hands allow-listed https links to the browser', () => {
    expect(decideWindowOpen('https://huggingface.co/stabilityai/sd-turbo')).toEqual({ action: 'deny', openExternally: true });
    expect(decideWindowOpen('http://huggingface.co/')).toEqual({ action: 'deny', openExternally: false });
    expect(decideWindowOpen('https://evil.example/')).toEqual({ action: 'deny', openExternally: false });
    expect(decideWindowOpen('file:///etc/passwd')).toEqual({ action: 'deny', openExternally: false });
    expect(decideWindowOpen('javascript:alert(1)')).toEqual({ action: 'deny', openExternally: false });
  });

  it('refuses external URLs that dress up as allow-listed hosts', () => {
    expect(isAllowedExternalUrl('https://huggingface.co.evil.example/')).toBe(false);
    expect(isAllowedExternalUrl('https://user:pw@huggingface.co/')).toBe(false);
    expect(isAllowedExternalUrl('https://huggingface.co:8443/')).toBe(false);
    expect(isAllowedExternalUrl('not a url')).toBe(false);
  });

  it('blocks navigation away from the app', () => {
    expect(decideNavigation(APP_FILE, APP_FILE)).toBe('allow');
    expect(decideNavigation('file:///etc/passwd', APP_FILE)).toBe('block');
    expect(decideNavigation('https://huggingface.co/', APP_FILE)).toBe('block');
    expect(decideNavigation('http://localhost:5173/#/image', APP_DEV)).toBe('allow');
    expect(decideNavigation('http://localhost:5174/', APP_DEV)).toBe('block');
  });

  it('denies all permission requests', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'unknown']) {
      expect(decidePermission(permission)).toBe(false);
    }
  });

  it('answers IPC only from the app page in the top frame', () => {
    expect(isTrustedSender({ url: APP_FILE, isMainFrame: true }, APP_FILE)).toBe(true);
    expect(isTrustedSender({ url: APP_FILE, isMainFrame: false }, APP_FILE)).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true }, APP_FILE)).toBe(false);
    expect(isTrustedSender({ url: 'file:///tmp/other.html', isMainFrame: true }, APP_FILE)).toBe(false);
    expect(isTrustedSender(null, APP_FILE)).toBe(false);
  });

  it('has a strict production CSP without inline or remote scripts', () => {
    const csp = contentSecurityPolicy(false);
    const script = csp.split('; ').find((d) => d.startsWith('script-src'));
    expect(script).toBe("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(FRAME_ANCESTORS_POLICY).toBe("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/https?:/);
  });

  it('reads asset ids only from plain asset://library/<id> URLs', () => {
    expect(assetIdFromUrl('asset://library/01HZX3')).toBe('01HZX3');
    expect(assetIdFromUrl('asset://library/abc/')).toBe('abc');
    expect(assetIdFromUrl('asset://library/abc/../../etc/passwd')).toBeNull();
    expect(assetIdFromUrl('asset://library/%2e%2e')).toBeNull();
    expect(assetIdFromUrl('asset://library/a/b')).toBeNull();
    expect(assetIdFromUrl('asset://other/abc')).toBeNull();
    expect(assetIdFromUrl('asset://library/abc?x=1')).toBeNull();
    expect(assetIdFromUrl('file:///etc/passwd')).toBeNull();
  });
});

/** Whether `policy` lets `directive` load from `scheme` (a scheme source like `asset:` or a host source like `ws://127.0.0.1:*`). */
function allows(policy: string, directive: string, scheme: string): boolean {
  const entry = policy.split(';').map((d) => d.trim().split(/\s+/)).find(([name]) => name === directive);
  return !!entry && entry.slice(1).some((source) => source === scheme || source.startsWith(`${scheme}//`));
}

function metaPolicy(html: string): string[] {
  return [...html.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/g)].map((m) => m[1]!);
}

/** Runs index.html through the renderer build's own plugins, as `npm run build` does. */
async function builtIndexHtml(): Promise<string> {
  const exported: unknown = electronViteConfig;
  const config = (typeof exported === 'function' ? await (exported as (env: object) => unknown)({ command: 'build', mode: 'production' }) : exported) as { renderer: UserConfig };
  let html = readFileSync(path.join(__dirname, '../../../src/renderer/index.html'), 'utf8');
  for (const plugin of (config.renderer.plugins ?? []).flat() as Plugin[]) {
    const hook = plugin?.transformIndexHtml;
    if (!hook) continue;
    const handler = typeof hook === 'function' ? hook : hook.handler;
    const out: unknown = await (handler as (html: string, ctx: object) => unknown)(html, { path: '/index.html', filename: 'index.html' });
    if (typeof out === 'string') html = out;
  }
  return html;
}

describe('one Content-Security-Policy for the meta tag and the header', () => {
  it('the built page carries exactly the policy the shell sends as a header', async () => {
    const html = await builtIndexHtml();
    expect(metaPolicy(html)).toEqual([contentSecurityPolicy(false)]);
  });

  it('index.html keeps no hand-written policy of its own', () => {
    const source = readFileSync(path.join(__dirname, '../../../src/renderer/index.html'), 'utf8');
    expect(metaPolicy(source)).toEqual(['%ATELIER_CSP%']);
  });

  // Each scheme where the renderer uses it: fetch(assetUrl(…)) in MusicPlayer (connect-src asset:),
  // the browser-mode WebSocket (connect-src ws:), thumbnails and previews (img-src asset:/data:/blob:),
  // audio and video elements (media-src asset:/blob:).
  const USED: [directive: string, scheme: string][] = [
    ['connect-src', 'asset:'],
    ['connect-src', 'ws:'],
    ['img-src', 'asset:'],
    ['img-src', 'data:'],
    ['img-src', 'blob:'],
    ['media-src', 'asset:'],
    ['media-src', 'blob:'],
  ];
  it.each(USED)('%s allows %s, in production and development', (directive, scheme) => {
    expect(allows(contentSecurityPolicy(false), directive, scheme)).toBe(true);
    expect(allows(contentSecurityPolicy(true), directive, scheme)).toBe(true);
  });

  it('the check above notices a policy without asset: in connect-src', () => {
    const withoutAsset = contentSecurityPolicy(false).replace(/(connect-src[^;]*) asset:/, '$1');
    expect(withoutAsset).not.toBe(contentSecurityPolicy(false));
    expect(allows(withoutAsset, 'connect-src', 'asset:')).toBe(false);
  });
});
