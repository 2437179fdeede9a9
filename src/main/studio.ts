import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../shared/contract';
import type { EngineInfo } from '../shared/engine-protocol';
import { createHandlers, readSettings, resolveModelDir } from './api';
import { EngineHost } from './engine-host/host';
import type { SpawnEngine } from './engine-host/types';
import { createDispatcher, type Dispatch } from './ipc/dispatch';
import { EventBus } from './ipc/events';
import { JobQueue } from './jobs/queue';
import { openLibrary, type Library } from './library';
import { dataLayout, type DataLayout } from './paths';
import type { AssetLookup } from './assets/serve';

export interface StudioOptions {
  dataDir: string;
  mode: 'electron' | 'browser' | 'cli';
  spawnEngine: SpawnEngine;
  nativeBinding?: string;
  versions?: Record<string, string>;
  log?(message: string): void;
}

export interface Studio {
  dispatch: Dispatch;
  events: EventBus;
  library: Library;
  queue: JobQueue;
  engine: EngineHost;
  layout: DataLayout;
  assets: AssetLookup;
  filesRoot: string;
  close(): Promise<void>;
}

export function appVersion(): string {
  for (const candidate of [path.resolve(__dirname, '../../package.json'), path.resolve(__dirname, '../package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'atelier' && pkg.version) return pkg.version;
    } catch {
      // try the next location (source tree vs. built bundle)
    }
  }
  return '0.0.0';
}

function engineOptions(settings: Settings) {
  return { provider: settings.provider, intraOpThreads: settings.intraOpThreads, memoryBudgetMb: settings.memoryBudgetMb };
}

/**
 * Wires one studio: library, engine host, job queue, handlers and events. The Electron shell, browser
 * mode and the CLI all build the app through this one function; only how the engine is spawned differs.
 */
export async function createStudio(options: StudioOptions): Promise<Studio> {
  const layout = dataLayout(options.dataDir);
  for (const dir of [layout.libraryDir, layout.modelsDir, layout.stagingDir]) mkdirSync(dir, { recursive: true });
  const library = openLibrary(layout.libraryDir, { nativeBinding: options.nativeBinding });
  const events = new EventBus();
  let queue: JobQueue | null = null;
  const engine = new EngineHost(options.spawnEngine, {
    onStream: (message) => queue?.handleStream(message),
    log: options.log,
  });
  queue = new JobQueue({
    store: library,
    engine,
    events,
    // Jobs were checked when enqueued (jobs.start refuses paths except from the CLI), so a stored path is trusted here.
    resolveModel: (model) => resolveModelDir(library, model, true),
    resolveAssetPath: (assetId) => library.resolveAsset(assetId)?.path ?? null,
    stagingDir: layout.stagingDir,
  });
  const jobs = queue;
  jobs.recover();
  // Jobs still queued from the last session start again on their own; interrupted ones wait for resume.
  jobs.setPaused(false);
  await engine.configure(engineOptions(readSettings(library)));

  let info: Promise<EngineInfo> | null = null;
  const handlers = createHandlers({
    library,
    queue: jobs,
    engine,
    layout,
    mode: options.mode,
    version: appVersion(),
    versions: options.versions ?? {},
    engineInfo: () => (info ??= engine.request<EngineInfo>({ type: 'info' }).catch((error: unknown) => {
      info = null;
      throw error;
    })),
    applySettings: async (settings) => {
      info = null;
      await engine.configure(engineOptions(settings));
    },
  });
  return {
    dispatch: createDispatcher(handlers),
    events,
    library,
    queue: jobs,
    engine,
    layout,
    assets: { resolveAsset: (id) => library.resolveAsset(id) },
    filesRoot: path.join(layout.libraryDir, 'files'),
    async close() {
      jobs.setPaused(true);
      await engine.stop();
      library.close();
    },
  };
}
