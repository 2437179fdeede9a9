import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../shared/contract';
import type { EngineInfo } from '../shared/engine-protocol';
import { StudioError } from '../shared/errors';
import { createHandlers, readSettings, resolveModelDir } from './api';
import { EngineHost } from './engine-host/host';
import type { SpawnEngine } from './engine-host/types';
import { createDispatcher, type Dispatch } from './ipc/dispatch';
import { EventBus } from './ipc/events';
import { JobQueue } from './jobs/queue';
import { openLibrary, type Library, type LibraryOwnerKind } from './library';
import { appRoot, dataLayout, type DataLayout } from './paths';
import type { AssetLookup } from './assets/serve';
import { loadCatalog } from './models/catalog';
import { ModelManager } from './models/manager';
import type { EmbedResult, EngineMessage, ModelInspection, UpscaleModelSummary } from '../shared/engine-protocol';
import { MeaningIndex } from './meaning/meaning-index';
import { localEndpointPath, startLocalEndpoint, type LocalEndpoint } from './transport/local-endpoint';
import { UpscaleModels } from './upscale/models';
import { exportSigning } from './credentials/handlers';
import { signCommittedPictures } from './credentials/library-signing';
import { noSecretStore, type SecretStore } from './secrets';
import { storedRemoteKeys } from './models/remote-models';

type EngineStreamMessage = Extract<EngineMessage, { type: 'progress' | 'token' | 'preview' | 'log' }>;

/** Where a Hugging Face token lives: the OS keychain in Electron (safeStorage), HF_TOKEN elsewhere. */
export interface TokenStore {
  get(): Promise<string | null>;
  set(token: string): Promise<boolean>;
}

export const envTokenStore: TokenStore = {
  get: async () => process.env.HF_TOKEN ?? null,
  set: async () => {
    throw new StudioError('FORBIDDEN', 'Outside the desktop app Atelier does not store tokens: set the HF_TOKEN environment variable instead.');
  },
};

export function resourcesDir(): string {
  return path.join(appRoot(), 'resources');
}

export interface StudioOptions {
  dataDir: string;
  mode: 'electron' | 'browser' | 'cli';
  spawnEngine: SpawnEngine;
  nativeBinding?: string;
  versions?: Record<string, string>;
  tokens?: TokenStore;
  /** Where text servers' API keys are kept (the OS keychain in the desktop app); default: nowhere. */
  secrets?: SecretStore;
  /** What this process is doing, told to another process that finds the library taken (e.g. "atelier generate image"). */
  ownerDetail?: string;
  log?(message: string): void;
}

const OWNER_KIND: Record<StudioOptions['mode'], LibraryOwnerKind> = {
  electron: 'desktop app',
  browser: 'browser mode (atelier serve)',
  cli: 'command line',
};

/**
 * Removes staging folders left by jobs of an earlier run (outputs the engine wrote before the app
 * stopped; the job itself is interrupted and runs again from the start). Only called under the
 * library's lock, when no job of this process is running yet.
 */
function clearStaging(stagingDir: string): void {
  for (const entry of readdirSync(stagingDir)) rmSync(path.join(stagingDir, entry), { recursive: true, force: true });
}

export interface Studio {
  dispatch: Dispatch;
  events: EventBus;
  library: Library;
  queue: JobQueue;
  engine: EngineHost;
  /** Engine stream messages (tokens, progress) for runs outside the job queue, such as the OpenAI-compatible endpoint's. */
  onEngineStream(listener: (message: EngineStreamMessage) => void): () => void;
  models: ModelManager;
  upscalers: UpscaleModels;
  meaning: MeaningIndex;
  layout: DataLayout;
  assets: AssetLookup;
  filesRoot: string;
  close(): Promise<void>;
}

export function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'atelier' && pkg.version) return pkg.version;
  } catch {
    // an unreadable package.json: report an unknown version rather than fail start-up
  }
  return '0.0.0';
}

function engineOptions(settings: Settings) {
  return { provider: settings.provider, intraOpThreads: settings.intraOpThreads, memoryBudgetMb: settings.memoryBudgetMb, llamaContextSize: settings.llamaContextSize, llamaGpuLayers: settings.llamaGpuLayers };
}

/**
 * Wires one studio: library, engine host, job queue, handlers and events. The Electron shell, browser
 * mode and the CLI all build the app through this one function; only how the engine is spawned differs.
 */
export async function createStudio(options: StudioOptions): Promise<Studio> {
  const layout = dataLayout(options.dataDir);
  for (const dir of [layout.libraryDir, layout.modelsDir, layout.stagingDir]) mkdirSync(dir, { recursive: true });
  // The library's lock covers the whole data folder: nothing below touches it before the lock is ours.
  const library = openLibrary(layout.libraryDir, {
    nativeBinding: options.nativeBinding,
    owner: { kind: OWNER_KIND[options.mode], ...(options.ownerDetail ? { detail: options.ownerDetail } : {}) },
  });
  clearStaging(layout.stagingDir);
  const events = new EventBus();
  let queue: JobQueue | null = null;
  const streamListeners = new Set<(message: EngineStreamMessage) => void>();
  const engine = new EngineHost(options.spawnEngine, {
    onStream: (message) => {
      queue?.handleStream(message);
      for (const listener of streamListeners) listener(message);
    },
    log: options.log,
  });
  const upscaleCache = path.join(layout.modelsDir, 'converted');
  const upscalers: UpscaleModels = new UpscaleModels({
    modelsDir: layout.modelsDir,
    inspect: (dir) => engine.request<UpscaleModelSummary>({ type: 'inspectUpscale', modelDir: dir, cacheDir: upscaleCache }),
  });
  const catalog = loadCatalog(path.join(resourcesDir(), 'catalog.json'));
  queue = new JobQueue({
    store: library,
    engine,
    events,
    // Jobs were checked when enqueued (jobs.start refuses paths except from the CLI), so a stored path is trusted here.
    resolveModel: (model) => resolveModelDir(library, model, true),
    modelDigest: (model) => library.findModel(model)?.digest ?? null,
    resolveAssetPath: (assetId) => library.resolveAsset(assetId)?.path ?? null,
    stagingDir: layout.stagingDir,
    upscale: { resolveModel: (model) => upscalers.resolve(model, true), cacheDir: upscalers.cacheDir },
    signPictures: (commit) =>
      signCommittedPictures({ library, enabled: () => readSettings(library).signLibrary, signing: () => exportSigning({ library, layout, catalog, version: appVersion() }) }, commit),
  });
  const jobs = queue;
  jobs.recover();
  // Jobs still queued from the last session start again on their own; interrupted ones wait for resume.
  jobs.setPaused(false);
  // API keys of text servers go to the engine with its options, by origin (see models/remote-models.ts).
  const secrets = options.secrets ?? noSecretStore;
  let remoteApiKeys = await storedRemoteKeys({ secrets, listModels: () => library.listModels() });
  let appliedEngineOptions = { ...engineOptions(readSettings(library)), remoteApiKeys };
  await engine.configure(appliedEngineOptions);

  const tokens = options.tokens ?? envTokenStore;
  const models = new ModelManager({
    modelsDir: layout.modelsDir,
    library,
    validate: (dir) => engine.request<ModelInspection>({ type: 'inspect', modelDir: dir }),
    // HF_ENDPOINT (tests, mirrors) wins over the setting; a changed setting applies at the next start.
    hub: { getToken: () => tokens.get(), endpoint: process.env.HF_ENDPOINT ?? readSettings(library).hubEndpoint },
    catalog,
    onProgress: (state) => events.emit('models.progress', state),
  });
  // Downloads that were running when the app stopped carry on (not awaited: start-up stays fast).
  if (options.mode !== 'cli') void models.resumePending().catch((error: unknown) => options.log?.(`resuming downloads failed: ${String(error)}`));

  const meaning = new MeaningIndex({
    library,
    embed: (modelDir, inputs) => engine.request<EmbedResult>({ type: 'embed', modelDir, inputs }),
    resolveModel: (model) => resolveModelDir(library, model, true),
    generationsIdle: async () => {
      while (jobs.busy) await jobs.idle();
    },
    onStatus: (status) => events.emit('meaning.status', status),
  });
  // New generations are indexed as they are committed; what an earlier run left undone resumes now.
  events.subscribe((event) => {
    if (event === 'library.changed') meaning.start();
  });
  if (options.mode !== 'cli') meaning.start();

  let info: Promise<EngineInfo> | null = null;
  const handlers = createHandlers({
    library,
    queue: jobs,
    engine,
    models,
    upscalers,
    catalog,
    tokens,
    remoteModels: {
      modelsDir: layout.modelsDir,
      secrets,
      register: (file, name) => models.importFolder(file, name),
      listModels: () => library.listModels(),
      applyKeys: async (keys) => {
        remoteApiKeys = keys;
        appliedEngineOptions = { ...appliedEngineOptions, remoteApiKeys };
        await engine.configure(appliedEngineOptions);
      },
    },
    layout,
    mode: options.mode,
    events,
    meaning,
    version: appVersion(),
    versions: options.versions ?? {},
    engineInfo: () => (info ??= engine.request<EngineInfo>({ type: 'info' }).catch((error: unknown) => {
      info = null;
      throw error;
    })),
    applySettings: async (settings) => {
      // Only a change the engine cares about waits for it (a theme change never waits for an engine still starting).
      const options = { ...engineOptions(settings), remoteApiKeys };
      if (JSON.stringify(options) === JSON.stringify(appliedEngineOptions)) return;
      appliedEngineOptions = options;
      info = null;
      await engine.configure(options);
    },
  });
  const dispatch = createDispatcher(handlers);
  // The desktop app and serve open a door for the command line (same user only), so `atelier
  // generate` hands its job over instead of being refused while they own the library.
  let endpoint: LocalEndpoint | null = null;
  if (options.mode !== 'cli') {
    endpoint = await startLocalEndpoint({ socketPath: localEndpointPath(layout.libraryDir), dispatch, events }).catch((error: unknown) => {
      options.log?.(`The command-line endpoint could not start (${String(error)}); CLI commands that write will be refused while Atelier runs.`);
      return null;
    });
  }
  return {
    dispatch,
    events,
    library,
    queue: jobs,
    engine,
    onEngineStream(listener) {
      streamListeners.add(listener);
      return () => streamListeners.delete(listener);
    },
    models,
    upscalers,
    meaning,
    layout,
    assets: { resolveAsset: (id) => library.resolveAsset(id) },
    filesRoot: path.join(layout.libraryDir, 'files'),
    async close() {
      await endpoint?.close();
      jobs.beginShutdown();
      // No new index batch starts; the one in flight ends with the engine (its items stay unindexed).
      const meaningStopped = meaning.stop();
      await engine.stop();
      await meaningStopped;
      // The job the stop ended is marked interrupted and its staging folder removed before the library closes.
      await jobs.idle();
      library.close();
    },
  };
}
