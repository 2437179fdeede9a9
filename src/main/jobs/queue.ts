import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Job } from '../../shared/contract';
import type { EngineMessage, OutputFile, RunParams, RunResult } from '../../shared/engine-protocol';
import { StudioError, toErrorShape } from '../../shared/errors';
import { JobRequest, type GenerationKind } from '../../shared/params';
import { isUpscaleParams, type UpscaleParams } from '../../shared/upscale';
import type { z } from 'zod';
import type { EngineHost } from '../engine-host/host';
import type { EventBus } from '../ipc/events';
import type { CommitGenerationInput, JobPatch, Library } from '../library';

/** What the queue needs from the library: its jobs table and the one-transaction generation commit. */
export type JobStore = Pick<
  Library,
  'insertJob' | 'getJob' | 'updateJob' | 'listJobs' | 'claimNextJob' | 'markRunningInterrupted' | 'reorderJob' | 'commitGeneration' | 'findGeneration' | 'findAssetOwner'
>;

export interface JobQueueDeps {
  store: JobStore;
  engine: EngineHost;
  events: EventBus;
  /** Turns the `model` parameter into a folder: an installed model id, or (CLI only) a folder path. */
  resolveModel(model: string, kind: GenerationKind): string;
  /** The installed model's recorded digest (downloads record one), when the engine did not report one. */
  modelDigest?(model: string): string | null;
  /** Library asset id → file path for img2img init images. */
  resolveAssetPath(assetId: string): string | null;
  stagingDir: string;
  /** Upscale jobs (image jobs in upscale mode): their models and where TF.js ones are converted to. */
  upscale?: { resolveModel(model: string): string; cacheDir: string };
  /** Signs a generation's staged pictures before the store hashes them (credentials/library-signing.ts); never throws. */
  signPictures?(commit: CommitGenerationInput): Promise<CommitGenerationInput>;
}

interface Running {
  jobId: string;
  startedAt: number;
  firstTokenAt: number | null;
  lastProgressWrite: number;
  cancelled: boolean;
}

/**
 * The persistent job queue: rows in SQLite so nothing is lost across a crash or restart; one job at
 * a time goes to the engine (highest priority, then oldest); progress, tokens and previews become
 * contract events; a finished job commits its generations and files in one transaction.
 */
export class JobQueue {
  private running: Running | null = null;
  private paused = false;
  private pumping = false;
  private readonly waiters = new Map<string, ((job: Job) => void)[]>();
  /** The running job's whole run, clean-up included: close() waits for it. */
  private current: Promise<void> | null = null;
  private closing = false;

  constructor(private readonly deps: JobQueueDeps) {}

  /** At start-up: jobs that were running when the app died come back as interrupted (resumable). */
  recover(): string[] {
    return this.deps.store.markRunningInterrupted();
  }

  /** Stores the job with every default filled in, so the row alone reproduces the generation. */
  enqueue(input: z.input<typeof JobRequest>): Job {
    const request = JobRequest.parse(input);
    // A remix whose parent, or an img2img/extension whose source, is gone is refused before it queues.
    this.checkSources(request.kind, request.params as Record<string, unknown>, request.parentId ?? null);
    const job = this.deps.store.insertJob({
      kind: request.kind,
      params: request.params as Record<string, unknown>,
      parentId: request.parentId ?? null,
      priority: request.priority ?? 0,
    });
    this.deps.events.emit('jobs.changed', job);
    this.pump();
    return job;
  }

  list(limit: number): Job[] {
    return this.deps.store.listJobs({ limit });
  }

  /** Whether a job is running (or finishing: committing, removing its staging folder). */
  get busy(): boolean {
    return this.current !== null || this.running !== null;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  reorder(jobId: string, priority: number): Job {
    const job = this.deps.store.reorderJob(jobId, priority);
    this.deps.events.emit('jobs.changed', job);
    return job;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.pump();
  }

  /** Resolves when no job is running any more (its staging folder removed); pause first to keep it so. */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  /**
   * For closing the studio: nothing new starts, and a job that the shutdown stops (its engine is
   * stopped next) becomes interrupted, to be resumed, rather than failed.
   */
  beginShutdown(): void {
    this.closing = true;
    this.paused = true;
  }

  /** Waits until the job reaches a final state (used by the CLI and tests). */
  waitFor(jobId: string): Promise<Job> {
    const job = this.deps.store.getJob(jobId);
    if (isFinal(job.state)) return Promise.resolve(job);
    return new Promise((resolve) => {
      const list = this.waiters.get(jobId) ?? [];
      list.push(resolve);
      this.waiters.set(jobId, list);
    });
  }

  async cancel(jobId: string, hard: boolean): Promise<Job> {
    const job = this.require(jobId);
    if (job.state === 'queued' || job.state === 'interrupted' || job.state === 'paused') {
      return this.finish(jobId, { state: 'cancelled' });
    }
    if (job.state !== 'running' || this.running?.jobId !== jobId) return job;
    this.running.cancelled = true;
    if (hard) {
      // The kill ends the job at once; the fresh engine starts in the background.
      void this.deps.engine.restart('Cancelled: the engine was restarted to stop the job at once.').catch(() => undefined);
    } else {
      await this.deps.engine.request({ type: 'cancel', jobId }).catch(() => undefined);
    }
    return this.require(jobId);
  }

  resume(jobId: string): Job {
    const job = this.require(jobId);
    if (job.state !== 'interrupted' && job.state !== 'failed' && job.state !== 'cancelled') {
      throw new StudioError('INVALID_INPUT', `Only interrupted, failed or cancelled jobs can be resumed; this one is ${job.state}.`);
    }
    const updated = this.deps.store.updateJob(jobId, { state: 'queued', progress: 0, step: 0, error: null });
    this.deps.events.emit('jobs.changed', updated);
    this.pump();
    return updated;
  }

  /** Engine stream messages for the running job. */
  handleStream(message: Extract<EngineMessage, { type: 'progress' | 'token' | 'preview' | 'log' }>): void {
    if (message.type === 'log') return;
    const running = this.running;
    if (!running || running.jobId !== message.jobId) return;
    if (message.type === 'progress') {
      const progress = message.totalSteps > 0 ? Math.min(1, message.step / message.totalSteps) : 0;
      const elapsed = Date.now() - running.startedAt;
      const etaMs = message.step > 0 ? Math.round((elapsed / message.step) * (message.totalSteps - message.step)) : null;
      this.deps.events.emit('jobs.progress', { jobId: message.jobId, step: message.step, totalSteps: message.totalSteps, progress, etaMs, message: message.message });
      // Progress rows are for recovery and the queue view; a few writes a second are plenty.
      const now = Date.now();
      if (now - running.lastProgressWrite > 250 || message.step === message.totalSteps) {
        running.lastProgressWrite = now;
        this.deps.store.updateJob(message.jobId, { progress, step: message.step, totalSteps: message.totalSteps });
      }
    } else if (message.type === 'token') {
      const now = Date.now();
      running.firstTokenAt ??= now;
      // Tokens per second after the first token: model loading and prompt processing are in firstTokenMs.
      const streaming = (now - running.firstTokenAt) / 1000;
      this.deps.events.emit('jobs.token', {
        jobId: message.jobId,
        text: message.text,
        tokens: message.tokens,
        tokensPerSecond: streaming > 0 && message.tokens > 1 ? (message.tokens - 1) / streaming : null,
        firstTokenMs: running.firstTokenAt - running.startedAt,
      });
    } else {
      this.deps.events.emit('jobs.preview', { jobId: message.jobId, step: message.step, dataUrl: message.dataUrl });
    }
  }

  private require(jobId: string): Job {
    return this.deps.store.getJob(jobId);
  }

  private finish(jobId: string, patch: JobPatch): Job {
    return this.announce(this.deps.store.updateJob(jobId, patch));
  }

  /** Tells the renderer and anyone waiting that the job changed. */
  private announce(job: Job): Job {
    this.deps.events.emit('jobs.changed', job);
    if (isFinal(job.state)) {
      for (const resolve of this.waiters.get(job.id) ?? []) resolve(job);
      this.waiters.delete(job.id);
    }
    return job;
  }

  private pump(): void {
    if (this.pumping || this.running || this.paused) return;
    this.pumping = true;
    queueMicrotask(() => {
      this.pumping = false;
      if (this.running || this.paused) return;
      // Claiming is one statement: a job is marked running by exactly one claimer.
      const next = this.deps.store.claimNextJob();
      if (!next) return;
      const run = this.run(next).finally(() => {
        if (this.current === run) this.current = null;
        this.pump();
      });
      this.current = run;
    });
  }

  /**
   * Refuses (NOT_FOUND) a job whose parent generation, init image or piece to extend is missing or
   * in the trash: it could only fail after the model ran, and throw its outputs away.
   */
  private checkSources(kind: GenerationKind, params: Record<string, unknown>, parentId: string | null): void {
    if (parentId) {
      const parent = this.deps.store.findGeneration(parentId);
      if (!parent) throw new StudioError('NOT_FOUND', `The generation this one is remixed from (${parentId}) is no longer in the library: it was emptied from the trash. Start from another one.`);
      if (parent.deletedAt !== null) throw new StudioError('NOT_FOUND', `The generation this one is remixed from is in the trash. Restore it from the trash in the Library first.`);
    }
    const sources: [string, string][] = [];
    if (kind === 'image' && typeof params.initAssetId === 'string') sources.push([params.initAssetId, 'The init image for img2img']);
    if (kind === 'image' && typeof params.maskAssetId === 'string') sources.push([params.maskAssetId, 'The inpainting mask']);
    if (kind === 'image' && typeof params.sourceAssetId === 'string') sources.push([params.sourceAssetId, 'The picture to upscale']);
    if (kind === 'music' && typeof params.extendAssetId === 'string') sources.push([params.extendAssetId, 'The piece to extend']);
    for (const [assetId, what] of sources) {
      const owner = this.deps.store.findAssetOwner(assetId);
      if (!owner || !this.deps.resolveAssetPath(assetId)) throw new StudioError('NOT_FOUND', `${what} is no longer in the library. Pick another one.`);
      if (owner.deletedAt !== null) throw new StudioError('NOT_FOUND', `${what} is in the trash. Restore it from the trash in the Library first. or pick another one.`);
    }
  }

  private async run(job: Job): Promise<void> {
    const startedAt = Date.now();
    this.running = { jobId: job.id, startedAt, firstTokenAt: null, lastProgressWrite: 0, cancelled: false };
    this.announce(job);
    const outDir = path.join(this.deps.stagingDir, job.id);
    let final: Job | null = null;
    let committed: string[] = [];
    try {
      // Checked again here: the parent may have been purged while the job waited in the queue.
      this.checkSources(job.kind, job.params, job.parentId);
      const modelDir = this.resolveModelDir(job);
      const run = this.runParams(job);
      await fs.mkdir(outDir, { recursive: true });
      const result = await this.deps.engine.request<RunResult>({ type: 'run', jobId: job.id, modelDir, outDir, run });
      const commits = this.toCommits(job, result);
      // A backend that keeps the text written before a cancel (llama.cpp) returns it marked as
      // cancelled: it is stored as a generation, and the job still ends cancelled.
      const keptPartial = result.meta?.cancelled === true;
      const ids: string[] = [];
      let done: Job | null = null;
      for (const [index, commit] of commits.entries()) {
        // The job becomes done in the same transaction as its last generation: never one without the other.
        const last = index === commits.length - 1;
        const signed = this.deps.signPictures ? await this.deps.signPictures(commit) : commit;
        const generation = await this.deps.store.commitGeneration(signed, {
          alsoInTransaction: last ? (id) => (done = this.deps.store.updateJob(job.id, { state: keptPartial ? 'cancelled' : 'done', progress: 1, generationIds: [...ids, id] })) : undefined,
        });
        ids.push(generation.id);
      }
      final = done ?? this.deps.store.getJob(job.id);
      committed = ids;
    } catch (error) {
      const shape = toErrorShape(error);
      const cancelled = shape.code === 'CANCELLED' || this.running?.cancelled === true;
      final = this.deps.store.updateJob(
        job.id,
        cancelled
          ? { state: 'cancelled' }
          : this.closing
            ? { state: 'interrupted', error: { code: 'ENGINE_CRASHED', message: 'Atelier was closed while this job was running. Resume it to start again.' } }
            : { state: 'failed', error: shape },
      );
    } finally {
      this.running = null;
      // The store holds its own copies now: the staging folder goes before anyone hears the job ended.
      await fs.rm(outDir, { recursive: true, force: true }).catch(() => undefined);
    }
    this.announce(final);
    if (committed.length > 0) this.deps.events.emit('library.changed', { ids: committed });
  }

  private resolveModelDir(job: Job): string {
    if (job.kind !== 'image' || !isUpscaleParams(job.params)) return this.deps.resolveModel(String(job.params.model), job.kind);
    if (!this.deps.upscale) throw new StudioError('INTERNAL', 'This studio was started without upscaling.');
    return this.deps.upscale.resolveModel(String(job.params.model));
  }

  private runParams(job: Job): RunParams {
    const params = job.params;
    if (job.kind === 'image' && isUpscaleParams(params)) {
      const upscale = params as UpscaleParams;
      const sourcePath = upscale.sourceAssetId ? this.deps.resolveAssetPath(upscale.sourceAssetId) : null;
      if (!sourcePath) throw new StudioError('NOT_FOUND', 'The picture to upscale is no longer in the library. Pick another one.');
      if (!this.deps.upscale) throw new StudioError('INTERNAL', 'This studio was started without upscaling.');
      return { kind: 'upscale', params: upscale, sourcePath, cacheDir: this.deps.upscale.cacheDir };
    }
    if (job.kind === 'image') {
      const initAssetId = typeof params.initAssetId === 'string' ? params.initAssetId : undefined;
      const initImagePath = initAssetId ? this.deps.resolveAssetPath(initAssetId) : undefined;
      if (initAssetId && !initImagePath) throw new StudioError('NOT_FOUND', 'The init image is no longer in the library. Pick another image for img2img.');
      const image = params as Extract<RunParams, { kind: 'image' }>['params'];
      const maskAssetId = typeof params.maskAssetId === 'string' ? params.maskAssetId : undefined;
      const maskImagePath = maskAssetId ? this.deps.resolveAssetPath(maskAssetId) : undefined;
      if (maskAssetId && !maskImagePath) throw new StudioError('NOT_FOUND', 'The inpainting mask is no longer in the library. Paint the mask again.');
      return { kind: 'image', params: image, ...(initImagePath ? { initImagePath } : {}), ...(maskImagePath ? { maskImagePath } : {}) };
    }
    if (job.kind === 'music') {
      const extendAssetId = typeof params.extendAssetId === 'string' ? params.extendAssetId : undefined;
      const extendFromPath = extendAssetId ? this.deps.resolveAssetPath(extendAssetId) : undefined;
      if (extendAssetId && !extendFromPath) throw new StudioError('NOT_FOUND', 'The piece to extend is no longer in the library.');
      const music = params as Extract<RunParams, { kind: 'music' }>['params'];
      // Keys that are absent stay absent: the engine's request schema is strict.
      return extendFromPath ? { kind: 'music', params: music, extendFromPath } : { kind: 'music', params: music };
    }
    return { kind: 'text', params: params as Extract<RunParams, { kind: 'text' }>['params'] };
  }

  /** One generation per seed: an image batch or a set of music variations become separate, remixable items. */
  private toCommits(job: Job, result: RunResult): CommitGenerationInput[] {
    const params = job.params;
    const groups = new Map<string, OutputFile[]>();
    for (const output of result.outputs) {
      const key = output.seed === undefined ? 'main' : String(output.seed);
      groups.set(key, [...(groups.get(key) ?? []), output]);
    }
    if (groups.size === 0) groups.set('main', []);
    return [...groups.entries()].map(([key, outputs]) => {
      const seed = key === 'main' ? result.seed : Number(key);
      const itemParams: Record<string, unknown> = { ...params, ...(seed !== null ? { seed } : {}) };
      if (job.kind === 'image' && !isUpscaleParams(params)) itemParams.batch = 1;
      if (job.kind === 'music') itemParams.variations = 1;
      if (result.meta) itemParams.meta = result.meta;
      return {
        kind: job.kind,
        model: String(params.model),
        modelDigest: result.modelDigest ?? this.deps.modelDigest?.(String(params.model)) ?? null,
        // An upscale has no prompt of its own: it carries its source's, so search finds both.
        prompt: typeof params.prompt === 'string' ? params.prompt : isUpscaleParams(params) && job.parentId ? (this.deps.store.findGeneration(job.parentId)?.prompt ?? '') : '',
        negativePrompt: typeof params.negativePrompt === 'string' ? params.negativePrompt : '',
        seed,
        params: itemParams,
        parentId: job.parentId,
        provider: result.provider,
        providerNote: result.providerNote ?? null,
        timings: result.tokens === undefined ? result.timings : { ...result.timings, tokens: result.tokens },
        outputText: result.text ?? null,
        files: outputs.map((o) => ({ sourcePath: o.path, mime: o.mime, role: o.role, width: o.width, height: o.height, durationMs: o.durationMs })),
      };
    });
  }
}

function isFinal(state: Job['state']): boolean {
  return state === 'done' || state === 'failed' || state === 'cancelled';
}
