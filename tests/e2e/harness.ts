import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
export const RESULTS = path.join(ROOT, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Served {
  url: string;
  token: string;
  /** Atelier's own OpenAI-compatible endpoint, when started with --openai. */
  openaiUrl?: string;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `atelier serve` (the real handlers and engine) on a fresh data folder and returns its URL. */
export async function startServe(dataDir = mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-')), env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<Served> {
  if (!existsSync(path.join(ROOT, 'out', 'renderer', 'index.html'))) throw new Error('Build the renderer first: npm run build');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), 'serve', '--json', '--library', dataDir, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`atelier serve exited with ${code}`)));
  });
  const { url, token, openaiUrl } = JSON.parse(first) as { url: string; token: string; openaiUrl?: string };
  return {
    url,
    token,
    ...(openaiUrl ? { openaiUrl } : {}),
    dataDir,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

/** Collects console errors and page errors so a test can assert the app ran cleanly. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: path.join(RESULTS, `${name}.png`) });
}

export interface AppSession {
  served: Served;
  browser: Browser;
  page: Page;
  errors: string[];
}

/**
 * The usual start of an end-to-end file: `atelier serve` on a fresh (or given) data folder,
 * Chromium, one page on the app with its errors collected, ready once the rail is shown.
 */
export async function openApp(
  options: { dataDir?: string; env?: NodeJS.ProcessEnv; args?: string[]; viewport?: { width: number; height: number }; beforeGoto?: (page: Page) => void } = {},
): Promise<AppSession> {
  const served = await startServe(options.dataDir, options.env, options.args);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1400, height: 880 } });
  // Waits end when the page is ready; the bound only stops a hang, and a loaded CI machine is slow.
  page.setDefaultTimeout(60_000);
  const errors = watchErrors(page);
  options.beforeGoto?.(page);
  await page.goto(served.url);
  await page.getByTestId('nav-write').waitFor();
  return { served, browser, page, errors };
}

export async function closeApp(app: AppSession | undefined): Promise<void> {
  await app?.browser.close();
  await app?.served.stop();
}

/** Registers model folders the way a user does (Models → import a folder), then reloads the app. */
export async function importModels(page: Page, models: { path: string; name: string }[]): Promise<string[]> {
  const ids = await page.evaluate(async (list) => {
    const imported: string[] = [];
    for (const model of list) imported.push((await window.studio.models.import(model)).id);
    return imported;
  }, models);
  await page.reload();
  await page.getByTestId('nav-write').waitFor();
  return ids;
}
