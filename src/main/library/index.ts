import path from 'node:path';
import type { AiPassage, DocumentSummary, Generation, InstalledModel, Job, JobState, LibraryPage, LibraryQuery, StudioDocument } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import type { GenerationKind, ModelKind } from '../../shared/params';
import { newId } from './clock';
import * as batches from './batch-diversity';
import * as collections from './collections';
import type { WritableDB } from './db';
import * as documents from './documents';
import { extensionFor, FileStore, storeKey, type SweepReport } from './file-store';
import * as generationQuery from './generation-query';
import { writeRecordsOf } from './generation-records';
import * as generationSearch from './generation-search';
import * as generations from './generations';
import * as jobs from './jobs';
import * as models from './models-registry';
import { acquireLibraryLock, type LibraryLock, type LibraryOwner } from './lock';
import { openDatabase } from './open-database';
import { Quarantine, type QuarantineSummary } from './quarantine';
import { listRecordFiles, removeRecord } from './records';
import { recoverFromRecords, type RecoveryReport } from './rebuild';
import { readRestoreMarker, markRestoreOpened } from './restore-marker';
import * as settings from './settings-store';
import * as vectors from './vectors';

export { restoreFrom, undoRestore, validateBackup, type RestoreResult } from './database-restore';
export { LATEST_VERSION } from './migrations';
export { countWords, type DocumentVersion, type DocumentVersionSummary } from './documents';
export type { Collection } from './collections';
export type { SearchHit } from './generation-search';
export type { JobPatch, NewJob } from './jobs';
export type { InstalledModelRecord } from './models-registry';
export type { SweepReport } from './file-store';
export { acquireLibraryLock, libraryInUse, readLibraryOwner, type LibraryLock, type LibraryOwner, type LibraryOwnerKind } from './lock';
export type { QuarantineSummary } from './quarantine';
export type { NewEmbedding, UnindexedItem, VectorHit } from './vectors';
export type { RecoveryReport } from './rebuild';
export { openLibraryReader, type LibraryReader } from './reader';
export { readRestoreMarker, dismissRestoreMarker, type RestoreMarker } from './restore-marker';

export interface LibraryOptions {
  /** better_sqlite3.node built for the running ABI, when it differs from the default (Electron). */
  nativeBinding?: string;
  /** Source of timestamps (ms); tests pass a fake clock. */
  now?: () => number;
  /**
   * Who opens the library (told to a second process that finds it taken). The library folder is
   * locked for this process until close(); `lock` hands over a lock the caller already holds.
   */
  owner?: Omit<LibraryOwner, 'pid' | 'startedAt'>;
  lock?: LibraryLock;
}

/** The setting that says every generation has its record file (libraries from before records get them once). */
const RECORDS_SETTING = `${settings.INTERNAL_PREFIX}recordsVersion`;
export const DOCUMENT_TRASH_DAYS = 30;

/** A file a generation produced, waiting in a scratch location; the caller deletes it afterwards. */
export interface GenerationFileInput {
  sourcePath: string;
  mime: string;
  role: string;
  width?: number | null;
  height?: number | null;
  durationMs?: number | null;
}

export interface CommitOptions {
  /** More writes that must land in the same transaction as the rows (e.g. the job's final state). */
  alsoInTransaction?: (generationId: string) => void;
}

/** A generation to store: its record (see generations.ts) plus the files it produced. */
export interface CommitGenerationInput extends generations.GenerationRecord {
  files?: GenerationFileInput[];
}

export interface ResolvedAsset {
  /** Absolute path, always inside the library's files/ folder. */
  path: string;
  mime: string;
  bytes: number;
}

export interface PurgeReport {
  generations: number;
  files: number;
  bytesFreed: number;
}

/**
 * The library: one SQLite connection (the only writer) plus the content-addressed file store.
 * Naming says what touches the database: get/find/list/search/resolve/next only read;
 * commit/insert/update/set/rate/tag/create/snapshot/softDelete/restore/purge/upsert/remove/
 * mark/reorder/add/delete write. `get*` throws NOT_FOUND (MODEL_NOT_INSTALLED for models);
 * `find*`/`resolve*` return null.
 */
export interface Library {
  readonly dir: string;
  /** Schema version found on disk before this open migrated it (0 for a new library). */
  readonly openedFromVersion: number;
  /** The copy made before migrating, if this open migrated an existing library. */
  readonly migrationBackup: string | null;
  /** What the check of the store at open moved to quarantine, back from it, or removed from tmp/. */
  readonly sweptAtOpen: SweepReport;

  // Generations
  /** Stores the files (hash, temp file, fsync, rename) and then inserts the rows in one transaction. */
  commitGeneration(input: CommitGenerationInput, options?: CommitOptions): Promise<Generation>;
  getGeneration(id: string): Generation;
  findGeneration(id: string): Generation | null;
  listGenerations(query?: LibraryQuery): LibraryPage;
  listGenerationIds(query?: LibraryQuery, max?: number): { ids: string[]; truncated: boolean };
  searchGenerations(input: { query: string; kind?: GenerationKind; limit?: number }): { items: generationSearch.SearchHit[] };
  rateGeneration(id: string, rating: number): Generation;
  setFavourite(id: string, favourite: boolean): Generation;
  setGenerationNotes(id: string, notes: string): Generation;
  tagGeneration(id: string, change: { add?: string[]; remove?: string[] }): Generation;
  tagGenerations(ids: string[], change: { add?: string[]; remove?: string[] }): { count: number; added: string[] };
  listTags(): { name: string; count: number }[];
  softDeleteGenerations(ids: string[]): number;
  restoreGenerations(ids: string[]): number;
  /** Empties the trash (optionally only items trashed before `olderThan`): rows, records, and files nothing else uses. */
  purgeDeleted(options?: { olderThan?: number }): PurgeReport;
  listChildren(id: string): Generation[];
  listAncestors(id: string): Generation[];
  resolveAsset(assetId: string): ResolvedAsset | null;
  /** Every stored file (`<sha256>.<ext>`) some generation, live or trashed, names. */
  referencedFileKeys(): Set<string>;
  /** The generation an asset belongs to and whether it is in the trash. */
  findAssetOwner(assetId: string): { generationId: string; deletedAt: number | null } | null;
  // Vectors for search by meaning (see vectors.ts); batch diversity (batch-diversity.ts)
  /** Stores vectors (and pictures' and music's prompt adherence) in one transaction, rewriting scored records; an item with a vector keeps it. */
  insertEmbeddings(model: string, rows: (vectors.NewEmbedding & { adherence?: number })[]): number;
  findEmbedding(model: string, generationId: string): Float32Array | null;
  listEmbeddings(model: string, ids: string[]): Map<string, Float32Array>;
  /** Live items of `kind` without a vector for `model`, oldest first (`onlyId`: just that one; `exclude`: not these). */
  listUnindexed(model: string, kind: GenerationKind, limit: number, options?: { onlyId?: string; exclude?: string[] }): vectors.UnindexedItem[];
  listUnscored(model: string, kind: 'image' | 'music', limit: number, exclude: string[]): { id: string; prompt: string; vector: Float32Array }[];
  countIndexed(model: string, kind: GenerationKind): { indexed: number; total: number };
  /** The model for `kind` changed: vectors of every other model for that kind go. */
  deleteOtherEmbeddings(kind: GenerationKind, keepModel: string): number;
  searchByVector(model: string, query: Float32Array, options: { k: number; exclude?: string }): vectors.VectorHit[];
  listBatchesOf(ids: string[]): string[][];
  setBatchDiversity(ids: string[], diversity: batches.BatchDiversity | null): void;

  // Collections
  createCollection(name: string): collections.Collection;
  listCollections(): collections.Collection[];
  listCollectionItems(collectionId: string): string[];
  addToCollection(collectionId: string, generationIds: string[]): number;
  removeFromCollection(collectionId: string, generationIds: string[]): number;
  deleteCollection(collectionId: string): boolean;

  // Documents
  createDocument(input?: { title?: string; body?: string; notes?: string }): StudioDocument;
  getDocument(id: string): StudioDocument;
  updateDocument(id: string, patch: { title?: string; body?: string; notes?: string; aiPassages?: AiPassage[] }): StudioDocument;
  listDocuments(options?: { trash?: boolean }): DocumentSummary[];
  searchDocuments(query: string, limit?: number): { document: DocumentSummary; snippet: string }[];
  softDeleteDocument(id: string): void;
  restoreDocument(id: string): StudioDocument;
  /** Empties the documents' trash (only what was trashed before `olderThan`, when given). */
  purgeDeletedDocuments(olderThan?: number): number;
  snapshotDocument(id: string, reason: string): documents.DocumentVersionSummary;
  listDocumentVersions(documentId: string): documents.DocumentVersionSummary[];
  getDocumentVersion(versionId: string): documents.DocumentVersion;

  // Jobs
  insertJob(job: jobs.NewJob): Job;
  updateJob(id: string, patch: jobs.JobPatch): Job;
  getJob(id: string): Job;
  listJobs(options?: { limit?: number; states?: JobState[] }): Job[];
  nextQueuedJob(): Job | null;
  /** Marks the next queued job running and returns it, atomically (see jobs.claimNextQueuedJob). */
  claimNextJob(): Job | null;
  /** Returns the ids that were running. */
  markRunningInterrupted(): string[];
  reorderJob(id: string, priority: number): Job;
  deleteFinishedJobs(before: number): number;

  // Installed models
  upsertModel(model: Omit<InstalledModel, 'installedAt'> & { installedAt?: number; digest?: string | null }): models.InstalledModelRecord;
  listModels(kind?: ModelKind): models.InstalledModelRecord[];
  getModel(id: string): models.InstalledModelRecord;
  findModel(id: string): models.InstalledModelRecord | null;
  removeModel(id: string): boolean;

  // Settings (JSON values)
  getSetting(key: string): unknown;
  listSettings(): Record<string, unknown>;
  setSetting(key: string, value: unknown): void;

  // Maintenance
  /** Moves store files and records the database does not name to quarantine (see quarantine.ts). */
  sweepOrphans(): SweepReport;
  quarantineSummary(): QuarantineSummary;
  /** Deletes the quarantine: only on a person's explicit request. */
  deleteQuarantine(): QuarantineSummary;
  /** Brings back every generation whose record is in records/ or quarantine and not in the database. */
  recoverFromRecords(): RecoveryReport;
  /**
   * Closes the database, lets `change` replace it (undo a restore), and opens it again: the folder
   * stays locked by this process throughout. No job may be running.
   */
  reopenAfter(change: (options: { nativeBinding?: string }) => void): SweepReport;
  /** Online backup of the database (not the file store) to `file`. */
  backupTo(file: string): Promise<void>;
  close(): void;
}

/**
 * Opens (creating, checking and migrating as needed) the library in `dir`:
 * dir/atelier.db, dir/files/ (content-addressed store), dir/records/ (each generation's record),
 * dir/quarantine/, dir/tmp/ (writes in progress), dir/backups/. Takes the folder's lock first
 * (LIBRARY_IN_USE when another process has it), then checks the store (see `checkStoreAtOpen`).
 */
export function openLibrary(dir: string, opts: LibraryOptions = {}): Library {
  const root = path.resolve(dir);
  const now = opts.now ?? Date.now;
  const lock = opts.lock ?? acquireLibraryLock(root, opts.owner ?? { kind: 'command line' }, { nativeBinding: opts.nativeBinding });
  let opened: ReturnType<typeof openDatabase>;
  let store: FileStore;
  const openOptions = { nativeBinding: opts.nativeBinding, now };
  try {
    store = new FileStore(root);
    opened = openDatabase(root, openOptions);
  } catch (error) {
    lock.release();
    throw error;
  }
  let db: WritableDB = opened.db;
  const quarantine = new Quarantine(root, now);
  let closed = false;

  const live = (): WritableDB => {
    if (closed) throw new StudioError('INTERNAL', 'The library was closed; reopen Atelier.');
    return db;
  };

  /** Rewrites the records of generations whose row just changed (no fsync each: the row is the truth). */
  const syncRecords = (ids: Iterable<string>): void => writeRecordsOf(live(), root, [...new Set(ids)], { durable: false });
  const after = <T>(ids: string[], result: T): T => {
    syncRecords(ids);
    return result;
  };

  /** Moves quarantined files the database names back into the store; returns what it names and how many came back. */
  const returnNamedFiles = (): { referenced: Set<string>; returnedFiles: number } => {
    const referenced = generations.listReferencedFiles(live());
    return { referenced, returnedFiles: quarantine.returnWanted((key) => referenced.has(key)) };
  };

  const sweepOrphans = (): SweepReport => {
    const w = live();
    const { referenced, returnedFiles } = returnNamedFiles();
    const report = store.sweepSync((key) => referenced.has(key), (file) => quarantine.admit(file));
    const known = new Set(generations.listAllGenerationIds(w));
    for (const file of listRecordFiles(root)) {
      const id = path.basename(file, '.json');
      if (known.has(id)) continue;
      report.quarantinedBytes += quarantine.admit(file);
      report.quarantinedFiles++;
    }
    return { ...report, returnedFiles };
  };

  /**
   * Files the database does not name are only looked for when the database opened healthy (it
   * did, or openDatabase threw) and is not new, empty or just restored: a database that was moved
   * aside, replaced or restored names too little to judge the files by. Quarantined files the
   * database names are moved back every time, and half-written copies in tmp/ always go.
   */
  const checkStoreAtOpen = (): SweepReport => {
    const w = live();
    const restore = readRestoreMarker(root);
    const count = generations.countGenerations(w);
    let skipped: string | undefined;
    if (opened.previousVersion === 0) skipped = 'the database is new';
    else if (count === 0) skipped = 'the database has no generations';
    else if (restore && !restore.opened) skipped = 'the database was just restored';
    if (settings.getSetting(w, RECORDS_SETTING) !== 1 || (restore && !restore.opened)) {
      // Libraries from before records, and a restored database, get every record written from the rows.
      syncRecords(generations.listAllGenerationIds(w));
      settings.setSetting(w, RECORDS_SETTING, 1);
    }
    if (restore && !restore.opened) markRestoreOpened(root);
    quarantine.expire();
    if (skipped) {
      return { quarantinedFiles: 0, quarantinedBytes: 0, removedTmpFiles: store.cleanTmpSync(), returnedFiles: returnNamedFiles().returnedFiles, skipped };
    }
    return sweepOrphans();
  };

  let sweptAtOpen: SweepReport;
  try {
    sweptAtOpen = checkStoreAtOpen();
    // Documents stay in the trash for 30 days (the Write view says so), then go.
    documents.purgeDeletedDocuments(db, now() - DOCUMENT_TRASH_DAYS * 24 * 60 * 60 * 1000);
  } catch (error) {
    db.close();
    lock.release();
    throw error;
  }

  const library: Library = {
    dir: root,
    get openedFromVersion() {
      return opened.previousVersion;
    },
    get migrationBackup() {
      return opened.migrationBackup;
    },
    get sweptAtOpen() {
      return sweptAtOpen;
    },
    reopenAfter(change) {
      live().close();
      try {
        change({ nativeBinding: opts.nativeBinding });
      } finally {
        try {
          opened = openDatabase(root, openOptions);
          db = opened.db;
        } catch (error) {
          closed = true;
          lock.release();
          // eslint-disable-next-line no-unsafe-finally -- the reopen's failure is the one to report
          throw error;
        }
      }
      sweptAtOpen = checkStoreAtOpen();
      return sweptAtOpen;
    },

    async commitGeneration(input, options = {}) {
      const reserved: string[] = [];
      try {
        // Files are written (and fsynced) side by side; all are durable before the rows name them.
        const files = input.files ?? [];
        const puts = await Promise.allSettled(files.map((file) => store.put(file.sourcePath, extensionFor(file.mime, file.sourcePath))));
        const stored: generations.CommittedFile[] = [];
        puts.forEach((put, i) => {
          if (put.status !== 'fulfilled') return;
          reserved.push(storeKey(put.value.sha256, put.value.ext));
          const file = files[i]!;
          stored.push({ ...put.value, mime: file.mime, role: file.role, width: file.width, height: file.height, durationMs: file.durationMs });
        });
        const failed = puts.find((put): put is PromiseRejectedResult => put.status === 'rejected');
        if (failed) throw failed.reason;
        const w = live();
        const createdAt = now();
        const id = newId(createdAt);
        let recordWritten = false;
        try {
          w.transaction(() => {
            generations.insertGeneration(w, id, input, stored, createdAt, () => newId(createdAt));
            options.alsoInTransaction?.(id);
            // The record is durable before the row commits, like the files it names.
            writeRecordsOf(w, root, [id], { durable: true });
            recordWritten = true;
          })();
        } catch (error) {
          if (recordWritten) removeRecord(root, id);
          throw error;
        }
        return generations.getGeneration(w, id);
      } finally {
        // A file whose row failed to commit stays an orphan until the next sweep.
        for (const key of reserved) store.release(key);
      }
    },
    getGeneration: (id) => generations.getGeneration(live(), id),
    findGeneration: (id) => generations.findGeneration(live(), id),
    listGenerations: (query = {}) => generationQuery.listGenerations(live(), query),
    listGenerationIds: (query = {}, max) => generationQuery.listGenerationIds(live(), query, max),
    searchGenerations: (input) => generationSearch.searchGenerations(live(), input),
    rateGeneration: (id, rating) => after([id], generations.rateGeneration(live(), id, rating)),
    setFavourite: (id, favourite) => after([id], generations.setFavourite(live(), id, favourite)),
    setGenerationNotes: (id, notes) => after([id], generations.setGenerationNotes(live(), id, notes)),
    tagGeneration: (id, change) => after([id], generations.tagGeneration(live(), id, change)),
    tagGenerations: (ids, change) => after(ids, generations.tagGenerations(live(), ids, change)),
    listTags: () => generations.listTags(live()),
    softDeleteGenerations: (ids) => after(ids, generations.softDeleteGenerations(live(), ids, now())),
    restoreGenerations: (ids) => after(ids, generations.restoreGenerations(live(), ids)),
    purgeDeleted(options = {}) {
      const w = live();
      const removed = w.transaction(() => generations.deleteTrashedRows(w, options.olderThan ?? null))();
      // Emptying the trash is a person's explicit request: the records and the files no row names go.
      // Unlink only after the commit: a crash before this leaves files the next open quarantines.
      for (const id of removed.ids) removeRecord(root, id);
      let files = 0;
      let bytesFreed = 0;
      for (const file of removed.unreferenced) {
        const freed = store.removeSync(file.sha256, file.ext);
        if (freed > 0) files++;
        bytesFreed += freed;
      }
      return { generations: removed.generations, files, bytesFreed };
    },
    listChildren: (id) => generations.listChildren(live(), id),
    listAncestors: (id) => generations.listAncestors(live(), id),
    findAssetOwner: (assetId) => generations.findAssetOwner(live(), assetId),
    referencedFileKeys: () => generations.listReferencedFiles(live()),
    resolveAsset(assetId) {
      const asset = generations.findAsset(live(), assetId);
      if (!asset) return null;
      const file = store.pathOf(asset.sha256, asset.ext);
      return file ? { path: file, mime: asset.mime, bytes: asset.bytes } : null;
    },

    insertEmbeddings(model, rows) {
      const w = live();
      const scored: string[] = [];
      const added = w.transaction(() => {
        const count = vectors.insertEmbeddings(w, model, rows, now());
        for (const row of rows) {
          if (row.adherence === undefined) continue;
          vectors.setAdherence(w, row.generationId, row.adherence, model);
          scored.push(row.generationId);
        }
        return count;
      })();
      syncRecords(scored);
      return added;
    },
    findEmbedding: (model, id) => vectors.findEmbedding(live(), model, id),
    listEmbeddings: (model, ids) => vectors.listEmbeddings(live(), model, ids),
    listUnindexed: (model, kind, limit, options) => vectors.listUnindexed(live(), model, kind, limit, options),
    listUnscored: (model, kind, limit, exclude) => vectors.listUnscored(live(), model, kind, limit, exclude),
    countIndexed: (model, kind) => vectors.countIndexed(live(), model, kind),
    deleteOtherEmbeddings: (kind, keepModel) => vectors.deleteOtherModels(live(), kind, keepModel),
    searchByVector: (model, query, options) => vectors.searchByVector(live(), model, query, options),
    listBatchesOf: (ids) => batches.listBatchesOf(live(), ids),
    setBatchDiversity: (ids, diversity) => syncRecords(live().transaction(() => batches.setBatchDiversity(live(), ids, diversity))()),

    createCollection: (name) => collections.createCollection(live(), newId(now()), name, now()),
    listCollections: () => collections.listCollections(live()),
    listCollectionItems: (collectionId) => collections.listCollectionItems(live(), collectionId),
    addToCollection: (collectionId, ids) => collections.addToCollection(live(), collectionId, ids, now()),
    removeFromCollection: (collectionId, ids) => collections.removeFromCollection(live(), collectionId, ids),
    deleteCollection: (collectionId) => collections.deleteCollection(live(), collectionId),

    createDocument: (input = {}) => documents.createDocument(live(), newId(now()), input, now()),
    getDocument: (id) => documents.getDocument(live(), id),
    updateDocument: (id, patch) => documents.updateDocument(live(), id, patch, now()),
    listDocuments: (options) => documents.listDocuments(live(), options),
    searchDocuments: (query, limit) => documents.searchDocuments(live(), query, limit),
    softDeleteDocument: (id) => documents.softDeleteDocument(live(), id, now()),
    restoreDocument: (id) => documents.restoreDocument(live(), id),
    purgeDeletedDocuments: (olderThan) => documents.purgeDeletedDocuments(live(), olderThan),
    snapshotDocument: (id, reason) => documents.snapshotDocument(live(), newId(now()), id, reason, now()),
    listDocumentVersions: (documentId) => documents.listDocumentVersions(live(), documentId),
    getDocumentVersion: (versionId) => documents.getDocumentVersion(live(), versionId),

    insertJob: (job) => jobs.insertJob(live(), newId(now()), job, now()),
    updateJob: (id, patch) => jobs.updateJob(live(), id, patch, now()),
    getJob: (id) => jobs.getJob(live(), id),
    listJobs: (options) => jobs.listJobs(live(), options),
    nextQueuedJob: () => jobs.nextQueuedJob(live()),
    claimNextJob: () => jobs.claimNextQueuedJob(live(), now()),
    markRunningInterrupted: () => jobs.markRunningInterrupted(live(), now()),
    reorderJob: (id, priority) => jobs.reorderJob(live(), id, priority),
    deleteFinishedJobs: (before) => jobs.deleteFinishedJobs(live(), before),

    upsertModel: (model) => models.upsertModel(live(), model, now()),
    listModels: (kind) => models.listModels(live(), kind),
    getModel: (id) => models.getModel(live(), id),
    findModel: (id) => models.findModel(live(), id),
    removeModel: (id) => models.removeModel(live(), id),

    getSetting: (key) => settings.getSetting(live(), key),
    listSettings: () => settings.listSettings(live()),
    setSetting: (key, value) => settings.setSetting(live(), key, value),

    sweepOrphans,
    quarantineSummary: () => quarantine.summary(),
    deleteQuarantine: () => quarantine.deleteAll(),
    recoverFromRecords() {
      const w = live();
      const report = recoverFromRecords(w, { root, quarantine });
      syncRecords(report.ids);
      return report;
    },
    async backupTo(file) {
      await live().backup(file);
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        db.close();
      } finally {
        lock.release();
      }
    },
  };
  return library;
}
