import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { app, BrowserWindow, dialog, ipcMain, nativeTheme, protocol, session, shell } from 'electron';
import { serveAsset } from '../assets/serve';
import { hubTrustQuestion, setHubTrustPrompt } from '../models/hub-trust';
import { dataLayout, defaultDataDir } from '../paths';
import { openWithRecovery, type RecoveryChoice } from '../start-recovery';
import { CallsInFlight, QUIT_BOUND_MS, rendererSaves, shutDownWithin } from '../shutdown';
import { createStudio, type Studio } from '../studio';
import { spawnUtilityEngine } from './spawn-utility';
import { keychainSecretStore, keychainTokenStore } from './token-store';
import {
  EVENT_CHANNEL,
  FRAME_ANCESTORS_POLICY,
  IPC_CHANNEL,
  assetIdFromUrl,
  contentSecurityPolicy,
  decideNavigation,
  decidePermission,
  decideWindowOpen,
  isTrustedSender,
  secureWebPreferences,
} from './security';

// Must run before `ready`: asset:// behaves like a real origin (fetch, media streaming, Range).
protocol.registerSchemesAsPrivileged([
  { scheme: 'asset', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);
app.enableSandbox();

const isDev = !app.isPackaged && !!process.env.ELECTRON_RENDERER_URL;
const appUrl = isDev ? process.env.ELECTRON_RENDERER_URL! : pathToFileUrl(path.join(__dirname, '../renderer/index.html'));
let studio: Studio | null = null;
const callsInFlight = new CallsInFlight();
/** null until a quit starts; 'saving' while the windows save and the studio closes; 'done' lets the quit through. */
let quitting: 'saving' | 'done' | null = null;

function pathToFileUrl(file: string): string {
  return new URL(`file://${file.startsWith('/') ? '' : '/'}${file.replace(/\\/g, '/')}`).toString();
}

function electronSqliteBinding(): string | undefined {
  // The Node build of better-sqlite3 serves tests and the CLI; the app needs one built for Electron's
  // ABI, which scripts/start.cjs keeps beside it (see README).
  const candidate = path.join(app.getAppPath(), '.cache', 'electron-native', 'better_sqlite3.node');
  return existsSync(candidate) ? candidate : undefined;
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Atelier',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#121316' : '#f7f7f8',
    webPreferences: secureWebPreferences(path.join(__dirname, '../preload/index.js')),
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(({ url }) => {
    const decision = decideWindowOpen(url);
    if (decision.openExternally) void shell.openExternal(url);
    return { action: decision.action };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (decideNavigation(url, appUrl) === 'block') {
      event.preventDefault();
      if (decideWindowOpen(url).openExternally) void shell.openExternal(url);
    }
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  void win.loadURL(appUrl);
  return win;
}

const RECOVERY_BUTTONS: { label: string; choice: RecoveryChoice }[] = [
  { label: 'Rebuild from files', choice: 'rebuild' },
  { label: 'Restore a backup…', choice: 'restore' },
  { label: 'Start empty', choice: 'start-empty' },
  { label: 'Quit', choice: 'quit' },
];

/** The corrupt-database screen: native dialogs, answered only by the person (never by a renderer). */
const recoveryWindow = {
  async choose(message: string): Promise<RecoveryChoice> {
    const { response } = await dialog.showMessageBox({
      type: 'warning',
      title: 'Atelier: the library needs attention',
      message: 'The library database is damaged. Your files are safe.',
      detail: `${message}\n\nRebuild from files re-creates every generation from the files and records in the library. Start empty keeps everything on disk and opens an empty library.`,
      buttons: RECOVERY_BUTTONS.map((b) => b.label),
      defaultId: 0,
      cancelId: RECOVERY_BUTTONS.length - 1,
      noLink: true,
    });
    return RECOVERY_BUTTONS[response]?.choice ?? 'quit';
  },
  async pickBackup(): Promise<string | null> {
    const { canceled, filePaths } = await dialog.showOpenDialog({
      title: 'Restore a backup',
      properties: ['openFile'],
      filters: [{ name: 'Atelier backups', extensions: ['tar', 'db'] }],
    });
    return canceled ? null : (filePaths[0] ?? null);
  },
  async tell(message: string): Promise<void> {
    await dialog.showMessageBox({ type: 'info', title: 'Atelier', message, buttons: ['OK'] });
  },
};

async function main(): Promise<void> {
  await app.whenReady();
  // A native dialog: the page cannot click it for the user, so only the person decides where the token goes.
  setHubTrustPrompt(async (origin) => {
    const answer = await dialog.showMessageBox({
      type: 'warning',
      title: 'Send your access token?',
      message: hubTrustQuestion(origin),
      buttons: ['Do not send', 'Send my token to this hub'],
      defaultId: 0,
      cancelId: 0,
      noLink: true,
    });
    return answer.response === 1;
  });
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(decidePermission(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => decidePermission(permission));
  if (!isDev) {
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy(false), FRAME_ANCESTORS_POLICY] } });
    });
  }

  const dataDir = process.env.ATELIER_HOME ?? defaultDataDir();
  studio = await openWithRecovery(() => createStudio({
    dataDir,
    tokens: keychainTokenStore(dataDir),
    secrets: keychainSecretStore(dataDir),
    mode: 'electron',
    spawnEngine: spawnUtilityEngine,
    nativeBinding: electronSqliteBinding(),
    versions: { electron: process.versions.electron ?? '', chrome: process.versions.chrome ?? '' },
  }), dataLayout(dataDir).libraryDir, recoveryWindow, { nativeBinding: electronSqliteBinding() });
  const current = studio;

  protocol.handle('asset', async (request) => {
    const id = assetIdFromUrl(request.url);
    if (!id) return new Response('Malformed asset URL', { status: 400 });
    const answer = await serveAsset(current.assets, current.filesRoot, id, request.headers.get('range'));
    const body = answer.body ? (Readable.toWeb(answer.body) as ReadableStream<Uint8Array>) : null;
    return new Response(body, { status: answer.status, headers: answer.headers });
  });

  ipcMain.handle(IPC_CHANNEL, async (event, name: unknown, input: unknown) => {
    if (!isTrustedSender(event.senderFrame ? { url: event.senderFrame.url, isMainFrame: event.senderFrame === event.sender.mainFrame } : null, appUrl)) {
      return { ok: false, error: { code: 'FORBIDDEN', message: 'This page is not allowed to talk to Atelier.' } };
    }
    return callsInFlight.track(current.dispatch(name, input, { transport: 'ipc' }));
  });
  current.events.subscribe((event, payload) => {
    for (const win of BrowserWindow.getAllWindows()) win.webContents.send(EVENT_CHANNEL, event, payload);
  });

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
// Quitting waits (at most QUIT_BOUND_MS) for the windows to save what they have pending (the Write
// view autosaves after a pause in typing) and then for the studio to close, then quits for real.
app.on('before-quit', (event) => {
  const current = studio;
  if (!current || quitting === 'done') return;
  event.preventDefault();
  if (quitting === 'saving') return;
  quitting = 'saving';
  // Every window hears the event; a crashed one cannot answer, so it is not waited for.
  const answering = BrowserWindow.getAllWindows().filter((win) => !win.webContents.isDestroyed() && !win.webContents.isCrashed());
  const { quitId, answered } = rendererSaves.ask(answering.length);
  current.events.emit('app.quitting', { quitId });
  void shutDownWithin(
    {
      save: async () => {
        await answered;
        // A window closed before the quit may have sent its last save on the way out.
        await callsInFlight.settled();
      },
      close: () => current.close(),
    },
    { boundMs: QUIT_BOUND_MS, log: (message) => console.warn(`Atelier: ${message}`) },
  ).finally(() => {
    rendererSaves.forget(quitId);
    quitting = 'done';
    app.quit();
  });
});

// One app per library: a second launch focuses the first window instead of opening the database twice.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  main().catch((error: unknown) => {
    console.error('Atelier could not start:', error);
    // A desktop app has no terminal to read: say it in a window before quitting.
    const message = error instanceof Error ? error.message : String(error);
    dialog.showErrorBox('Atelier could not start', `${message}\n\nIf this keeps happening, reinstall Atelier or start it from a terminal with \`npm start\` to see more.`);
    app.exit(1);
  });
}
