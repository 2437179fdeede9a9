import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AppInfo, Settings } from '../shared/contract';
import type { EngineInfo, ModelInspection } from '../shared/engine-protocol';
import { StudioError } from '../shared/errors';
import type { GenerationKind } from '../shared/params';
import type { EngineHost } from './engine-host/host';
import type { Handlers } from './ipc/dispatch';
import type { Library } from './library';
import type { JobQueue } from './jobs/queue';
import type { DataLayout } from './paths';

export const DEFAULT_SETTINGS: Settings = {
  theme: 'system',
  provider: 'auto',
  intraOpThreads: 0,
  memoryBudgetMb: 8192,
  hubEndpoint: 'https://huggingface.co',
  panelSizes: {},
};

export interface ApiDeps {
  library: Library;
  queue: JobQueue;
  engine: EngineHost;
  layout: DataLayout;
  mode: AppInfo['mode'];
  version: string;
  versions: Record<string, string>;
  engineInfo(): Promise<EngineInfo>;
  applySettings(settings: Settings): Promise<void>;
}

export function readSettings(library: Library): Settings {
  const stored: Record<string, unknown> = library.listSettings();
  const merged = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
    if (key in stored) Object.assign(merged, { [key]: stored[key] });
  }
  return merged;
}

/** Installed model id first; a folder path only from the command line (the renderer names installed models). */
export function resolveModelDir(library: Library, model: string, allowPaths: boolean): string {
  const installed = library.findModel(model);
  if (installed) return installed.path;
  if (allowPaths && path.isAbsolute(model) && existsSync(model) && statSync(model).isDirectory()) return model;
  throw new StudioError('MODEL_NOT_INSTALLED', `The model "${model}" is not installed. Add it in the Models view (import a folder or download it), then try again.`);
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'model';
}

/** The implementation of the contract: one plain object of handlers, no Electron. */
export function createHandlers(deps: ApiDeps): Handlers {
  const { library, queue } = deps;
  return {
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
      for (const [key, value] of Object.entries(patch)) library.setSetting(key, value);
      const settings = readSettings(library);
      await deps.applySettings(settings);
      return settings;
    },

    'library.list': (query) => library.listGenerations(query),
    'library.get': ({ id }) => library.getGeneration(id),
    'library.search': (query) => library.searchGenerations(query),
    'library.rate': ({ id, rating, favourite }) => {
      let generation = library.getGeneration(id);
      if (rating !== undefined) generation = library.rateGeneration(id, rating);
      if (favourite !== undefined) generation = library.setFavourite(id, favourite);
      return generation;
    },
    'library.tag': ({ id, add, remove }) => library.tagGeneration(id, { add, remove }),
    'library.delete': ({ ids }) => ({ count: library.softDeleteGenerations(ids) }),
    'library.restore': ({ ids }) => ({ count: library.restoreGenerations(ids) }),
    'library.notes': ({ id, notes }) => library.setGenerationNotes(id, notes),
    'library.lineage': ({ id }) => ({ ancestors: library.listAncestors(id), children: library.listChildren(id) }),
    'library.purge': () => library.purgeDeleted(),
    'library.tags': () => ({ items: library.listTags() }),

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
      resolveModelDir(library, request.params.model, ctx.transport === 'cli');
      return { jobId: queue.enqueue(request).id };
    },
    'jobs.cancel': async ({ jobId, hard }) => {
      const job = await queue.cancel(jobId, hard);
      return { jobId: job.id, state: job.state };
    },
    'jobs.list': ({ limit }) => ({ items: queue.list(limit) }),
    'jobs.resume': ({ jobId }) => ({ jobId: queue.resume(jobId).id }),

    'models.list': () => ({ items: library.listModels() }),
    'models.import': async ({ path: dir, name }) => {
      const absolute = path.resolve(dir);
      const inspection = await deps.engine.request<ModelInspection>({ type: 'inspect', modelDir: absolute });
      if (!inspection.ok || inspection.kind === 'unknown') {
        throw new StudioError('MODEL_INVALID', `This folder is not a model Atelier can run: ${inspection.problems.join(' ') || 'its layout was not recognised.'}`);
      }
      const existing = library.listModels().find((m) => m.path === absolute);
      const base = slug(name ?? path.basename(absolute));
      let id = existing?.id ?? base;
      for (let n = 2; !existing && library.findModel(id); n++) id = `${base}-${n}`;
      return library.upsertModel({
        id,
        kind: inspection.kind as GenerationKind,
        name: name ?? path.basename(absolute),
        path: absolute,
        bytes: inspection.totalBytes,
        source: 'local',
      });
    },
    'models.remove': ({ id }) => {
      const model = library.getModel(id);
      const usedBy = library.listGenerations({ model: model.id, limit: 1 }).total;
      library.removeModel(id);
      return { id, usedBy };
    },
  };
}
