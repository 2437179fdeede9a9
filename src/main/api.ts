import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Settings, type AppInfo } from '../shared/contract';
import type { EngineInfo } from '../shared/engine-protocol';
import { StudioError } from '../shared/errors';
import type { EngineHost } from './engine-host/host';
import type { Handlers } from './ipc/dispatch';
import type { Library } from './library';
import { exportGenerations } from './library-io/export';
import { importPngFolder } from './library-io/import';
import type { JobQueue } from './jobs/queue';
import type { DataLayout } from './paths';
import type { ModelManager } from './models/manager';
import { findCatalogEntry, type Catalog } from './models/catalog';
import { catalogItems, resolveHubRepo } from './models/catalog-items';
import { listHubGgufQuants } from './models/gguf-pull';
import { modelFormat } from './models/installed-models';
import { forgetUnusedKey, remoteBaseUrlOf, remoteModelHandlers, type RemoteModelDeps } from './models/remote-models';
import { rendererSaves } from './shutdown';
import type { EventBus } from './ipc/events';
import { librarySafetyHandlers } from './library-safety';
import { forgetHubTrust } from './models/hub-trust';
import { maskHandlers } from './masks';
import { credentialHandlers, exportSigning, importedCredentials } from './credentials/handlers';
import { meaningHandlers } from './meaning/handlers';
import type { MeaningIndex } from './meaning/meaning-index';
import type { TokenStore } from './studio';
import { isUpscaleParams } from '../shared/upscale';
import type { UpscaleModels } from './upscale/models';
import { upscaleHandlers } from './upscale/handlers';

export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  provider: 'auto',
  intraOpThreads: 0,
  memoryBudgetMb: 8192,
  llamaContextSize: 0,
  llamaGpuLayers: -1,
  hubEndpoint: 'https://huggingface.co',
  panelSizes: {},
  signExports: true,
  signLibrary: true,
};

export interface ApiDeps {
  library: Library;
  queue: JobQueue;
  engine: EngineHost;
  models: ModelManager;
  upscalers: UpscaleModels;
  catalog: Catalog;
  tokens: TokenStore;
  /** Text servers' API keys (models.addRemote), handed to the engine by origin. */
  remoteModels: RemoteModelDeps;
  layout: DataLayout;
  mode: AppInfo['mode'];
  version: string;
  versions: Record<string, string>;
  events: EventBus;
  meaning: MeaningIndex;
  engineInfo(): Promise<EngineInfo>;
  applySettings(settings: Settings): Promise<void>;
}

export function readSettings(library: Library): Settings {
  const stored: Record<string, unknown> = library.listSettings();
  const merged = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
    if (!(key in stored)) continue;
    // A value this version does not accept (stored by another version, or by hand) reads as the
    // default: one bad row must not make every settings call fail the contract.
    const checked = Settings.shape[key].safeParse(stored[key]);
    if (checked.success) Object.assign(merged, { [key]: checked.data });
  }
  return merged;
}

/** Installed model id first; a folder path only from the command line (the renderer names installed models). */
export function resolveModelDir(library: Library, model: string, allowPaths: boolean): string {
  const installed = library.findModel(model);
  if (installed) return installed.path;
  if (allowPaths && path.isAbsolute(model) && existsSync(model) && statSync(model).isDirectory()) return model;
  // A .gguf file is a whole model (llama.cpp): `atelier generate text --model FILE.gguf`.
  if (allowPaths && path.isAbsolute(model) && /\.gguf$/i.test(model) && existsSync(model) && statSync(model).isFile()) return model;
  throw new StudioError('MODEL_NOT_INSTALLED', `The model "${model}" is not installed. Add it in the Models view (import a folder or download it), then try again.`);
}


/** The implementation of the contract: one plain object of handlers, no Electron. */
export function createHandlers(deps: ApiDeps): Handlers {
  const { library, queue } = deps;
  return {
    // A window saved what it had pending; the Electron shell waits for these before it quits.
    'app.readyToQuit': ({ quitId }) => {
      rendererSaves.answer(quitId);
      return {};
    },
    'app.info': async () => {
      const info = await deps.engineInfo().catch(() => null);
      const settings = readSettings(library);
      return {
        name: 'Atelier',
        version: deps.version,
        mode: deps.mode,
        versions: { node: process.versions.node, ...deps.versions, ...(info ? { onnxruntime: info.onnxruntime, transformers: info.transformers } : {}) },
        platform: process.platform,
        arch: process.arch,
        dataDir: deps.layout.dataDir,
        libraryDir: deps.layout.libraryDir,
        modelsDir: deps.layout.modelsDir,
        providers: info?.providers ?? [{ name: 'cpu', available: true }],
        // What will actually run: the first provider of the chain that loads here, not merely the first tried.
        preferredProvider:
          settings.provider === 'auto' ? (info?.chain.find((name) => info.providers.some((p) => p.name === name && p.available)) ?? 'cpu') : settings.provider,
      };
    },
    'settings.get': () => readSettings(library),
    'settings.set': async (patch) => {
      // The answer is checked before anything is written, so a refused result never follows a write.
      const settings = Settings.parse({ ...readSettings(library), ...patch });
      // Trust in a hub was given to one endpoint; a new endpoint has to be allowed on its own.
      if (patch.hubEndpoint !== undefined && patch.hubEndpoint !== readSettings(library).hubEndpoint) forgetHubTrust(library);
      for (const [key, value] of Object.entries(patch)) library.setSetting(key, value);
      await deps.applySettings(settings);
      return settings;
    },

    'library.list': (query) => library.listGenerations(query),
    'library.ids': (query) => library.listGenerationIds(query),
    'library.get': ({ id }) => library.getGeneration(id),
    'library.search': (query) => library.searchGenerations(query),
    'library.rate': ({ id, rating, favourite }) => {
      let generation = library.getGeneration(id);
      if (rating !== undefined) generation = library.rateGeneration(id, rating);
      if (favourite !== undefined) generation = library.setFavourite(id, favourite);
      return generation;
    },
    'library.tag': ({ id, add, remove }) => library.tagGeneration(id, { add, remove }),
    'library.tagMany': ({ ids, add, remove }) => library.tagGenerations(ids, { add, remove }),
    'library.delete': ({ ids }) => ({ count: library.softDeleteGenerations(ids) }),
    'library.restore': ({ ids }) => ({ count: library.restoreGenerations(ids) }),
    'library.notes': ({ id, notes }) => library.setGenerationNotes(id, notes),
    'library.lineage': ({ id }) => ({ ancestors: library.listAncestors(id), children: library.listChildren(id) }),
    'library.purge': () => library.purgeDeleted(),
    ...librarySafetyHandlers(deps),
    ...maskHandlers(deps),
    ...upscaleHandlers(deps),
    ...credentialHandlers(deps),
    ...meaningHandlers(deps),
    ...remoteModelHandlers(deps.remoteModels),
    'library.tags': () => ({ items: library.listTags() }),
    'library.export': async ({ ids, zip }) => {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const folder = path.join(deps.layout.dataDir, 'exports', stamp);
      const { signing, unsigned } = readSettings(library).signExports ? await exportSigning(deps) : {};
      const result = await exportGenerations(library, ids, folder, { zip, signing });
      return { folder, files: result.files, ...(unsigned ? { unsigned } : {}) };
    },
    'library.importFolder': async ({ path: dir }) => {
      const result = await importPngFolder(library, path.resolve(dir), { recursive: true });
      const credentials = await importedCredentials(deps, result.ids);
      return { imported: result.imported, ids: result.ids, restored: result.restored, skipped: result.skipped, ...(credentials ? { credentials } : {}) };
    },

    'collections.list': () => ({ items: library.listCollections() }),
    'collections.create': ({ name }) => library.createCollection(name),
    'collections.items': ({ collectionId }) => ({ ids: library.listCollectionItems(collectionId) }),
    'collections.add': ({ collectionId, ids }) => ({ count: library.addToCollection(collectionId, ids) }),
    'collections.remove': ({ collectionId, ids }) => ({ count: library.removeFromCollection(collectionId, ids) }),
    'collections.delete': ({ collectionId }) => ({ deleted: library.deleteCollection(collectionId) }),

    'documents.create': (input) => library.createDocument(input),
    'documents.get': ({ id }) => library.getDocument(id),
    'documents.update': ({ id, ...patch }) => library.updateDocument(id, patch),
    'documents.list': ({ trash }) => ({ items: library.listDocuments({ trash }) }),
    'documents.search': ({ query }) => ({ items: library.searchDocuments(query, 50) }),
    'documents.delete': ({ id }) => {
      library.softDeleteDocument(id);
      return { id };
    },
    'documents.restore': ({ id }) => library.restoreDocument(id),
    'documents.snapshot': ({ id, reason }) => library.snapshotDocument(id, reason),
    'documents.versions': ({ id }) => ({ items: library.listDocumentVersions(id) }),
    'documents.version': ({ versionId }) => library.getDocumentVersion(versionId),
    'documents.restoreVersion': ({ id, versionId }) => {
      const version = library.getDocumentVersion(versionId);
      if (version.documentId !== id) throw new StudioError('INVALID_INPUT', 'That version belongs to another document.');
      library.snapshotDocument(id, 'Before restoring an older version');
      return library.updateDocument(id, { body: version.body });
    },

    'jobs.start': (request, ctx) => {
      // Fail fast with an actionable message instead of queueing a job that cannot run.
      if (isUpscaleParams(request.params)) deps.upscalers.resolve(request.params.model, ctx.transport === 'cli');
      else resolveModelDir(library, request.params.model, ctx.transport === 'cli');
      return { jobId: queue.enqueue(request).id };
    },
    'jobs.cancel': async ({ jobId, hard }) => {
      const job = await queue.cancel(jobId, hard);
      return { jobId: job.id, state: job.state };
    },
    'jobs.list': ({ limit }) => ({ items: queue.list(limit), paused: queue.isPaused }),
    'jobs.reorder': ({ jobId, priority }) => queue.reorder(jobId, priority),
    'jobs.pause': ({ paused }) => {
      queue.setPaused(paused);
      return { paused: queue.isPaused };
    },
    'jobs.resume': ({ jobId }) => ({ jobId: queue.resume(jobId).id }),

    'models.list': async () => ({ items: await Promise.all(library.listModels().map(async (m) => ({ ...m, format: await modelFormat(m.path) }))) }),
    'models.import': ({ path: dir, name }) => deps.models.importFolder(path.resolve(dir), name),
    'models.remove': async ({ id }) => {
      const server = await remoteBaseUrlOf(library.findModel(id)?.path);
      const removed = await deps.models.remove(id);
      if (server) await forgetUnusedKey(deps.remoteModels, server);
      return { id: removed.id, usedBy: removed.usedBy };
    },
    'models.catalog': () => ({ items: catalogItems(deps.catalog, library.listModels()) }),
    'models.ggufQuants': async ({ repo, revision }) => {
      const resolved = resolveHubRepo(deps.catalog, repo, revision);
      return listHubGgufQuants(deps.models.hub, resolved.repo, resolved.revision);
    },
    'models.pull': async ({ repo, revision, dtype, quant, name }) => {
      const resolved = resolveHubRepo(deps.catalog, repo, revision);
      const entry = findCatalogEntry(deps.catalog, repo);
      const chosen = dtype ?? (!quant && entry?.format === 'onnx' ? entry.defaultDtype : undefined);
      // What stops the pull before it exists is this call's error, shown where it was asked for;
      // progress and any later failure arrive as models.progress events.
      const started = await deps.models.begin(`${resolved.repo}@${resolved.revision}`, { dtype: chosen, quant, name: name ?? resolved.title });
      return { downloadId: started.downloadId };
    },
    'models.downloads': async () => ({ items: await deps.models.listDownloads() }),
    'models.pause': async ({ downloadId: id }) => {
      await deps.models.pause(id);
      return { downloadId: id };
    },
    'models.resume': async ({ downloadId: id }) => {
      const started = await deps.models.beginResume(id);
      return { downloadId: started.downloadId };
    },
    'models.cancel': async ({ downloadId: id }) => {
      await deps.models.cancel(id);
      return { downloadId: id };
    },
    'models.verify': async ({ id }) => {
      const result = await deps.models.verify(id);
      return { id, ok: result.ok, problems: result.files.flatMap((f) => (f.problem ? [`${f.path}: ${f.problem}`] : [])) };
    },
    'models.setToken': async ({ token }) => ({ stored: await deps.tokens.set(token) }),
  };
}
