import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelInspection } from '../../shared/engine-protocol';
import { StudioError, toErrorShape } from '../../shared/errors';
import type { InstalledModelRecord } from '../library';
import { findCatalogEntry, patternsFor, type Catalog, type Dtype } from './catalog';
import { readManifestIn, stateFromManifest, type DownloadState, type Manifest } from './download-manifest';
import { patternsForQuant } from './gguf-pull';
import { matchesAny } from './glob';
import { assertSafeHubPath, formatBytes, HubClient, type HubClientOptions, type HubFile } from './hub-client';
import { libraryHubTrust } from './hub-trust';
import { importModel, installDownload, removeModel, sentences, verifyModel, type InstalledModels, type ModelLibrary, type RemoveResult, type VerifyResult } from './installed-models';
import { downloadId, isDownloadId, parseRepoAtRevision } from './repo-spec';
import { writeJsonDurably } from './write-json-durably';

export type { DownloadState } from './download-manifest';

export interface ModelManagerOptions {
  /** Where models live; downloads stage in `<modelsDir>/.downloads/<id>/`. */
  modelsDir: string;
  library: ModelLibrary;
  /** Layout check (the engine's `inspect`); a model is registered only when it says ok. */
  validate: (dir: string) => Promise<ModelInspection>;
  /** A client, or options for one (endpoint, getToken, …); without `trust` the token's trust is the library's (see hub-trust). */
  hub?: HubClient | HubClientOptions;
  /** Lets `pull(repo, { dtype })` pick the files of catalog models. */
  catalog?: Catalog;
  /** Files downloaded at once per model (default 3). */
  concurrency?: number;
  onProgress?: (state: DownloadState) => void;
  /** Free space probe; default fs.statfs. */
  statfs?: (dir: string) => Promise<{ bavail: number; bsize: number }>;
  /** Kept free beyond the download itself (default 256 MB). */
  diskHeadroomBytes?: number;
  progressIntervalMs?: number;
}

export interface PullOptions {
  revision?: string;
  /** Glob patterns of repository paths; default all files (or the catalog's files for `dtype`). */
  files?: string[];
  dtype?: Dtype;
  /** A GGUF quantisation (Q4_K_M) or one .gguf file path of the repository. */
  quant?: string;
  name?: string;
}

interface Active {
  manifest: Manifest;
  state: DownloadState;
  controller: AbortController;
  stop: 'pause' | 'cancel' | null;
  promise?: Promise<InstalledModelRecord>;
  fileBytes: Map<string, number>;
  /** Set once its disk check passed: the bytes it still needs count against later checks. */
  reserved: boolean;
}

/**
 * Downloads models from the hub into `<modelsDir>/<owner>--<name>@<revision>/`, validates their
 * layout and only then registers them in the library; imports, verifies and removes models.
 * Download state lives in a manifest per download so a restarted process can finish it.
 */
export class ModelManager {
  readonly modelsDir: string;
  readonly hub: HubClient;
  private readonly library: ModelLibrary;
  private readonly validate: (dir: string) => Promise<ModelInspection>;
  private readonly installed: InstalledModels;
  private readonly catalog?: Catalog;
  private readonly concurrency: number;
  private readonly onProgress: (state: DownloadState) => void;
  private readonly statfs: (dir: string) => Promise<{ bavail: number; bsize: number }>;
  private readonly headroom: number;
  private readonly intervalMs: number;
  private readonly active = new Map<string, Active>();
  private readonly listeners = new Set<(state: DownloadState) => void>();

  constructor(options: ModelManagerOptions) {
    this.modelsDir = path.resolve(options.modelsDir);
    this.library = options.library;
    this.validate = options.validate;
    this.installed = { modelsDir: this.modelsDir, library: options.library, validate: options.validate };
    this.hub = options.hub instanceof HubClient ? options.hub : new HubClient({ trust: libraryHubTrust(options.library), ...options.hub });
    this.catalog = options.catalog;
    this.concurrency = Math.max(1, options.concurrency ?? 3);
    this.onProgress = options.onProgress ?? (() => {});
    this.statfs = options.statfs ?? ((dir) => fs.statfs(dir));
    this.headroom = options.diskHeadroomBytes ?? 256 * 1024 * 1024;
    this.intervalMs = options.progressIntervalMs ?? 250;
  }

  /** Adds a progress listener besides the constructor's; returns the unsubscribe function. */
  subscribe(listener: (state: DownloadState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(state: DownloadState): void {
    this.onProgress(state);
    for (const listener of this.listeners) listener({ ...state });
  }

  private get downloadsDir(): string {
    return path.join(this.modelsDir, '.downloads');
  }

  /** A download's folder. Ids come from clients too (pause, resume, cancel): one that is not of our own form never becomes a path. */
  private stagingDir(id: string): string {
    if (!isDownloadId(id)) throw new StudioError('INVALID_INPUT', `"${id.slice(0, 120)}" is not a download id (owner--name@revision).`);
    return path.join(this.downloadsDir, id);
  }

  list(): InstalledModelRecord[] {
    return this.library.listModels();
  }

  /** Downloads in progress, paused or failed (from memory and from manifests on disk). */
  async listDownloads(): Promise<DownloadState[]> {
    const states = new Map<string, DownloadState>();
    for (const manifest of await this.readManifests()) states.set(manifest.id, stateFromManifest(manifest));
    for (const [id, a] of this.active) states.set(id, { ...a.state });
    return [...states.values()];
  }

  /** Starts a download; resolves with the registered model once it is downloaded and valid. */
  async pull(repoSpec: string, options: PullOptions = {}): Promise<InstalledModelRecord> {
    return (await this.begin(repoSpec, options)).outcome;
  }

  /**
   * Starts a download and answers as soon as it exists, with its id and the promise of its outcome.
   * What is wrong before that (a dtype for a repository outside the catalog, …) is thrown here, so
   * the caller can tell the person who asked; every later failure is in the download's state
   * (a 'failed' progress event), so the outcome may be left unwatched.
   */
  async begin(repoSpec: string, options: PullOptions = {}): Promise<{ downloadId: string; outcome: Promise<InstalledModelRecord> }> {
    const parsed = parseRepoAtRevision(options.revision ? `${repoSpec}@${options.revision}` : repoSpec);
    let patterns = options.files && options.files.length > 0 ? options.files : null;
    const entry = this.catalog ? findCatalogEntry(this.catalog, parsed.repo) : undefined;
    // A GGUF repository downloads one quantisation: the one asked for, else the catalog's default.
    const quant = options.quant ?? (!options.dtype && entry?.format === 'gguf' ? entry.defaultQuant : undefined);
    if (!patterns && quant) patterns = await patternsForQuant(this.hub, parsed.repo, parsed.revision, quant);
    if (!patterns && options.dtype) {
      if (!entry) throw new StudioError('INVALID_INPUT', `${parsed.repo} is not in the catalog, so "${options.dtype}" cannot be mapped to files; pass file patterns instead.`);
      patterns = patternsFor(entry, options.dtype);
    }
    const id = downloadId(parsed.repo, parsed.revision);
    const running = this.active.get(id)?.promise;
    if (running) return { downloadId: id, outcome: running };
    const installed = this.library.findModel(id);
    if (installed && (await fs.stat(installed.path).then(() => true, () => false))) {
      // Downloads are named after the repository: another quantisation installed is said, not answered with.
      if (quant && patterns?.length === 1 && !existsSync(path.join(installed.path, patterns[0]!))) throw new StudioError('INVALID_INPUT', `${parsed.repo} is installed with another quantisation as "${installed.name}"; remove it in the Models view first to download ${quant}.`);
      return { downloadId: id, outcome: Promise.resolve(installed) };
    }

    const existing = await this.readManifest(id);
    const samePatterns = JSON.stringify(existing?.patterns ?? null) === JSON.stringify(patterns);
    const manifest: Manifest =
      existing && samePatterns
        ? existing
        : { version: 1, id, repo: parsed.repo, revision: parsed.revision, commit: null, name: options.name ?? parsed.repo.split('/')[1]!, patterns, status: 'queued', files: null, error: null, createdAt: Date.now() };
    if (existing && !samePatterns) await fs.rm(this.stagingDir(id), { recursive: true, force: true });
    return { downloadId: id, outcome: this.started(manifest) };
  }

  /** Resumes a paused or failed download. */
  async resume(id: string): Promise<InstalledModelRecord> {
    return (await this.beginResume(id)).outcome;
  }

  /** Resumes a download and answers once it is under way; like begin(), an unknown id is thrown here. */
  async beginResume(id: string): Promise<{ downloadId: string; outcome: Promise<InstalledModelRecord> }> {
    // Refuses an id that is not a download id (it would name a folder outside .downloads).
    this.stagingDir(id);
    const running = this.active.get(id)?.promise;
    if (running) return { downloadId: id, outcome: running };
    const manifest = await this.readManifest(id);
    if (!manifest) throw new StudioError('NOT_FOUND', `There is no download "${id}" to resume.`);
    return { downloadId: id, outcome: this.started(manifest) };
  }

  /** start(), with its failure marked as handled: it is reported in the download's state. */
  private started(manifest: Manifest): Promise<InstalledModelRecord> {
    const outcome = this.start(manifest);
    outcome.catch(() => {});
    return outcome;
  }

  /** At start-up: restarts every download that was running when the process stopped. Returns their ids. */
  async resumePending(): Promise<string[]> {
    const ids: string[] = [];
    for (const manifest of await this.readManifests()) {
      if (manifest.status === 'paused' || manifest.status === 'failed' || this.active.has(manifest.id)) continue;
      // The caller follows progress through onProgress/wait(); an error is already in the state.
      this.start(manifest).catch(() => {});
      ids.push(manifest.id);
    }
    return ids;
  }

  /** The promise of a running download (e.g. one resumePending started). */
  wait(id: string): Promise<InstalledModelRecord> {
    const running = this.active.get(id)?.promise;
    if (!running) throw new StudioError('NOT_FOUND', `No download "${id}" is running.`);
    return running;
  }

  /** Stops a download and keeps what was downloaded, for resume(). */
  async pause(id: string): Promise<void> {
    const running = this.active.get(id);
    if (!running) return;
    running.stop = 'pause';
    running.controller.abort();
    await running.promise?.catch(() => {});
  }

  /** Stops a download and deletes its partial files. */
  async cancel(id: string): Promise<void> {
    this.stagingDir(id);
    const running = this.active.get(id);
    if (running) {
      running.stop = 'cancel';
      running.controller.abort();
      await running.promise?.catch(() => {});
    } else {
      const manifest = await this.readManifest(id);
      if (!manifest) throw new StudioError('NOT_FOUND', `There is no download "${id}" to cancel.`);
      await fs.rm(this.stagingDir(id), { recursive: true, force: true });
      this.notify({ ...stateFromManifest(manifest), status: 'cancelled', bytesDone: 0, rate: 0, etaMs: null });
    }
  }

  /** Registers a model folder (or a single .gguf file) already on disk after validating it; its files stay where they are. */
  async importFolder(dir: string, name?: string): Promise<InstalledModelRecord> {
    return importModel(this.installed, dir, name);
  }

  /** Forgets a model; deletes its files only when they are inside modelsDir (never a user's folder). */
  async remove(id: string): Promise<RemoveResult> {
    return removeModel(this.installed, this.downloadsDir, id);
  }

  /** Re-reads every file: digests against the download's record, or sizes for imported folders. */
  async verify(id: string): Promise<VerifyResult> {
    return verifyModel(this.installed, id);
  }

  // --- downloads ---------------------------------------------------------------------------

  private start(manifest: Manifest): Promise<InstalledModelRecord> {
    const active: Active = {
      manifest,
      controller: new AbortController(),
      stop: null,
      fileBytes: new Map(),
      reserved: false,
      state: { id: manifest.id, repo: manifest.repo, revision: manifest.revision, status: 'queued', bytesDone: 0, bytesTotal: 0, rate: 0, etaMs: null },
    };
    this.active.set(manifest.id, active);
    const promise = this.run(active).finally(() => this.active.delete(manifest.id));
    active.promise = promise;
    return promise;
  }

  private emit(active: Active, patch: Partial<DownloadState>): void {
    Object.assign(active.state, patch);
    this.notify({ ...active.state });
  }

  private async saveManifest(active: Active): Promise<void> {
    await writeJsonDurably(path.join(this.stagingDir(active.manifest.id), 'manifest.json'), active.manifest);
  }

  private async run(active: Active): Promise<InstalledModelRecord> {
    const { manifest } = active;
    const staging = this.stagingDir(manifest.id);
    const filesDir = path.join(staging, 'files');
    const signal = active.controller.signal;
    let ticker: NodeJS.Timeout | undefined;
    try {
      await fs.mkdir(filesDir, { recursive: true });
      manifest.status = 'queued';
      manifest.error = null;
      await this.saveManifest(active);
      this.emit(active, { status: 'queued' });

      if (!manifest.files) {
        manifest.commit = await this.hub.resolveRevision(manifest.repo, manifest.revision, signal);
        const all = await this.hub.listFiles(manifest.repo, manifest.commit, signal);
        const chosen = manifest.patterns ? all.filter((f) => matchesAny(f.path, manifest.patterns!)) : all.filter((f) => f.path !== '.gitattributes');
        if (chosen.length === 0) {
          throw new StudioError('INVALID_INPUT', `No file of ${manifest.repo}@${manifest.revision} matches ${manifest.patterns?.join(', ') ?? 'anything'}; check the file patterns or the dtype.`);
        }
        for (const f of chosen) assertSafeHubPath(manifest.repo, f.path);
        manifest.files = chosen.map((f) => ({ ...f, done: false, digest: null }));
        await this.saveManifest(active);
      }
      const files = manifest.files;
      // A manifest on disk could have been edited since: its names are checked again before any is joined to a path.
      for (const f of files) assertSafeHubPath(manifest.repo, f.path);
      const commit = manifest.commit ?? manifest.revision;
      const bytesTotal = files.reduce((s, f) => s + f.size, 0);
      for (const f of files) active.fileBytes.set(f.path, f.done ? f.size : await fs.stat(path.join(filesDir, `${f.path}.partial`)).then((s) => Math.min(s.size, f.size), () => 0));
      const bytesDone = (): number => downloadedBytes(active);
      await this.checkDisk(active);

      manifest.status = 'downloading';
      await this.saveManifest(active);
      this.emit(active, { status: 'downloading', bytesTotal, bytesDone: bytesDone() });
      let last = { at: performance.now(), bytes: bytesDone() };
      ticker = setInterval(() => {
        const now = performance.now();
        const done = bytesDone();
        const instant = Math.max(0, ((done - last.bytes) * 1000) / Math.max(1, now - last.at));
        last = { at: now, bytes: done };
        const rate = active.state.rate === 0 ? instant : 0.3 * instant + 0.7 * active.state.rate;
        this.emit(active, { bytesDone: done, rate, etaMs: rate > 0 ? Math.round(((bytesTotal - done) / rate) * 1000) : null });
      }, this.intervalMs);
      ticker.unref();

      let saving = Promise.resolve();
      const pending = files.filter((f) => !f.done);
      let firstError: unknown = null;
      const worker = async (): Promise<void> => {
        for (let f = pending.shift(); f && !firstError; f = pending.shift()) {
          const file: HubFile = { path: f.path, size: f.size, oid: f.oid, sha256: f.sha256 };
          const target = path.join(filesDir, f.path);
          await fs.mkdir(path.dirname(target), { recursive: true });
          try {
            const result = await this.hub.downloadFile(manifest.repo, commit, file, target, { signal, onBytes: (n) => active.fileBytes.set(f.path, n) });
            f.done = true;
            f.digest = result.sha256;
            active.fileBytes.set(f.path, f.size);
            saving = saving.then(() => this.saveManifest(active));
            await saving;
          } catch (error) {
            if (!firstError) firstError = error;
            // One file failing stops the others; their partials stay for a resume.
            active.controller.abort();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, pending.length) }, worker));
      clearInterval(ticker);
      ticker = undefined;
      if (firstError) throw firstError;

      manifest.status = 'verifying';
      await this.saveManifest(active);
      this.emit(active, { status: 'verifying', bytesDone: bytesTotal, rate: 0, etaMs: 0 });
      const inspection = await this.validate(filesDir);
      if (!inspection.ok || inspection.kind === 'unknown') {
        throw new StudioError('MODEL_INVALID', `${manifest.repo}@${manifest.revision} downloaded, but it is not a model Atelier can run: ${sentences(inspection.problems)} Choose other files or another model.`);
      }
      const record = await installDownload(this.installed, { ...manifest, kind: inspection.kind, bytes: bytesTotal, filesDir, files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.digest ?? '' })) });
      await fs.rm(staging, { recursive: true, force: true });
      this.emit(active, { status: 'done', bytesDone: bytesTotal });
      return record;
    } catch (caught) {
      if (ticker) clearInterval(ticker);
      if (active.stop === 'cancel') {
        await fs.rm(staging, { recursive: true, force: true });
        this.emit(active, { status: 'cancelled', rate: 0, etaMs: null, bytesDone: 0 });
        throw new StudioError('CANCELLED', `The download of ${manifest.repo} was cancelled and its partial files deleted.`);
      }
      if (active.stop === 'pause') {
        manifest.status = 'paused';
        await this.saveManifest(active).catch(() => {});
        this.emit(active, { status: 'paused', rate: 0, etaMs: null });
        throw new StudioError('CANCELLED', `The download of ${manifest.repo} was paused; resume it to continue where it stopped.`);
      }
      const error = caught instanceof StudioError ? caught : new StudioError(toErrorShape(caught).code, toErrorShape(caught).message);
      manifest.status = 'failed';
      manifest.error = error.toJSON();
      await this.saveManifest(active).catch(() => {});
      this.emit(active, { status: 'failed', rate: 0, etaMs: null, error: error.toJSON() });
      throw error;
    }
  }

  /** Bytes a download will still write (0 before its file list is known). */
  private remainingBytes(active: Active): number {
    const total = (active.manifest.files ?? []).reduce((sum, f) => sum + f.size, 0);
    return Math.max(0, total - downloadedBytes(active));
  }

  /**
   * Free space must cover what this download and the ones already running will still write
   * (otherwise two pulls that each fit alone both start and one fills the disk), and a headroom.
   * Checking and reserving happen in one synchronous step after the one await, so two checks
   * cannot both count the same free bytes.
   */
  private async checkDisk(active: Active): Promise<void> {
    const needed = this.remainingBytes(active);
    const stats = await this.statfs(this.modelsDir);
    const available = stats.bavail * stats.bsize;
    const others = [...this.active.values()].filter((a) => a !== active && a.reserved).reduce((sum, a) => sum + this.remainingBytes(a), 0);
    if (needed > 0 && available < needed + others + this.headroom) {
      const running = others > 0 ? `, and downloads already running will still write ${formatBytes(others)} of that` : '';
      throw new StudioError(
        'DISK_FULL',
        `Not enough disk space for this model: it needs ${formatBytes(needed)} (plus ${formatBytes(this.headroom)} to spare) but only ${formatBytes(available)} is free in ${this.modelsDir}${running}. Free some space and try again.`,
      );
    }
    active.reserved = true;
  }

  /** Null for an id that is no download's (a stray folder in .downloads) as for a missing manifest. */
  private async readManifest(id: string): Promise<Manifest | null> {
    return isDownloadId(id) ? readManifestIn(this.stagingDir(id)) : null;
  }

  private async readManifests(): Promise<Manifest[]> {
    const entries = await fs.readdir(this.downloadsDir).catch(() => [] as string[]);
    const out: Manifest[] = [];
    for (const id of entries) {
      const m = await this.readManifest(id);
      if (m) out.push(m);
    }
    return out;
  }
}

/** Bytes of a download already on disk, over its files. */
function downloadedBytes(active: Active): number {
  return [...active.fileBytes.values()].reduce((sum, n) => sum + n, 0);
}
