import path from 'node:path';
import { env as transformersEnv } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import type { EngineInfo, EngineMessage, EngineOptions, LlamaProviderName, ProviderName, RunHooks, RunResult } from '../shared/engine-protocol';
import { StudioError, toErrorShape } from '../shared/errors';
import { embed, unloadEmbedders } from './embed/embed';
import { generateMusic, loadMusicModel, unloadMusicModels } from './music/generate';
import { describeIssues, EngineRequestSchema, seqOf, type ValidRequest } from './requests';
import type { EngineContext } from './runtime/context';
import { inspectModelDir } from './runtime/layout';
import { resolveThreads } from './runtime/sessions';
import { describeRunFailure } from './runtime/run-failures';
import { generateText, loadTextModel, unloadTextModels } from './text/generate';
import { inspectUpscaleModel } from './upscale/inspect';
import { isGgufModelPath } from './gguf/files';
import { inspectRemoteModel, isRemoteModelPath, withoutApiKeys } from './remote/descriptor';

type RunRequest = Extract<ValidRequest, { type: 'run' }>;

export interface RunContext {
  ctx: EngineContext;
  hooks: RunHooks;
  outDir: string;
}

/** One function per generation kind; the defaults are the real pipelines, tests may swap them. */
export interface Runners {
  text(modelDir: string, run: Extract<RunRequest['run'], { kind: 'text' }>, context: RunContext): Promise<RunResult>;
  image(modelDir: string, run: Extract<RunRequest['run'], { kind: 'image' }>, context: RunContext): Promise<RunResult>;
  music(modelDir: string, run: Extract<RunRequest['run'], { kind: 'music' }>, context: RunContext): Promise<RunResult>;
  upscale(modelDir: string, run: Extract<RunRequest['run'], { kind: 'upscale' }>, context: RunContext): Promise<RunResult>;
}

export const defaultRunners: Runners = {
  // A .gguf file (or a folder holding one) runs on llama.cpp; a transformers.js folder on ONNX.
  text: async (modelDir, run, context) => {
    if (isRemoteModelPath(modelDir)) return (await import('./remote/generate')).generateRemoteText(modelDir, run.params, { ...context, apiKeys: context.ctx.options().remoteApiKeys });
    if (!isGgufModelPath(modelDir)) return generateText(modelDir, run.params, context);
    const { generateGgufText } = await import('./gguf/generate');
    return generateGgufText(modelDir, run.params, context);
  },
  music: (modelDir, run, context) => generateMusic(modelDir, run.params, { ...context, ...(run.extendFromPath === undefined ? {} : { extendFromPath: run.extendFromPath }) }),
  image: async (modelDir, run, { ctx, hooks, outDir }) => {
    const { generateImage } = await import('./image/pipeline');
    return generateImage(modelDir, run.params, { sessions: ctx.sessions, hooks, outDir, initImagePath: run.initImagePath, maskImagePath: run.maskImagePath });
  },
  upscale: async (modelDir, run, { ctx, hooks, outDir }) => {
    const { upscaleImage } = await import('./upscale/upscale');
    return upscaleImage(modelDir, run.params, { sessions: ctx.sessions, hooks, outDir, cacheDir: run.cacheDir, sourcePath: run.sourcePath });
  },
};

interface QueuedWork {
  /** Set for runs; load/unload/cache work has none. */
  jobId?: string;
  controller: AbortController;
  seq: number;
  label: string;
  work: (signal: AbortSignal) => Promise<unknown>;
}

/**
 * The engine's message loop. Decisions:
 * - Every request gets exactly one reply with its seq; a message that is not a valid request gets
 *   an INVALID_INPUT reply (seq -1 when it has no usable seq) and the engine carries on.
 * - Heavy work (run, load, unload, cache changes after configure) goes through ONE serial queue,
 *   in arrival order: a second run while one is running is queued, not refused, and its reply
 *   comes when it finishes. Light requests (info, inspect, status, cancel, configure) are
 *   answered at once, also while a run is going (pipelines yield to the event loop every step).
 * - cancel: a running job's AbortController is aborted (the pipeline stops before its next
 *   step/token and its run replies CANCELLED); a queued job is removed and its run replies
 *   CANCELLED at once. The cancel request itself replies { jobId, state } with state
 *   'running' | 'queued' | 'unknown' (unknown = already finished or never seen; not an error,
 *   since cancel races completion).
 * - A run whose jobId is already running or queued is refused with INVALID_INPUT.
 */
export class EngineServer {
  private readonly queue: QueuedWork[] = [];
  private current: QueuedWork | null = null;
  private pumping = false;

  constructor(
    private readonly send: (message: EngineMessage) => void,
    private readonly ctx: EngineContext & { setOptions(options: EngineOptions): void },
    private readonly runners: Runners = defaultRunners,
  ) {}

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.send({ type: 'log', level, message });
  }

  private reply(seq: number, result: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    if (result.ok) this.send({ type: 'reply', seq, ok: true, value: result.value === undefined ? null : result.value });
    else this.send({ type: 'reply', seq, ok: false, error: toErrorShape(result.error) });
  }

  /** Entry point for every incoming message. Never throws. */
  handle(raw: unknown): void {
    const parsed = EngineRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const seq = seqOf(raw);
      const type = raw && typeof raw === 'object' && 'type' in raw ? String((raw as { type: unknown }).type) : 'none';
      const message = `The engine received an invalid request (type ${type}): ${describeIssues(parsed.error)}.`;
      this.log('warn', message);
      this.send({ type: 'reply', seq: seq ?? -1, ok: false, error: { code: 'INVALID_INPUT', message } });
      return;
    }
    const request = parsed.data;
    void this.dispatch(request).catch((error: unknown) => {
      if (!(error instanceof StudioError)) this.log('error', `Request ${request.type} #${request.seq} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      this.reply(request.seq, { ok: false, error });
    });
  }

  private async dispatch(request: ValidRequest): Promise<void> {
    switch (request.type) {
      case 'info':
        this.reply(request.seq, { ok: true, value: await this.info() });
        return;
      case 'status':
        this.reply(request.seq, { ok: true, value: this.status() });
        return;
      case 'inspect': {
        const inspection = isRemoteModelPath(request.modelDir)
          ? await inspectRemoteModel(request.modelDir, this.ctx.options().remoteApiKeys)
          : isGgufModelPath(request.modelDir)
            ? await (await import('./gguf/inspect')).inspectGguf(request.modelDir)
            : inspectModelDir(request.modelDir);
        this.reply(request.seq, { ok: true, value: inspection });
        return;
      }
      case 'inspectUpscale':
        // Loading and probing runs a model: it waits its turn behind a running job.
        this.enqueue({ seq: request.seq, label: `inspect upscale ${request.modelDir}`, controller: new AbortController(), work: () => inspectUpscaleModel(this.ctx, path.resolve(request.modelDir), request.cacheDir) });
        return;
      case 'configure': {
        const before = this.ctx.options();
        this.ctx.setOptions(request.options);
        const changed =
          before.provider !== request.options.provider ||
          resolveThreads(before) !== resolveThreads(request.options) ||
          (before.llamaContextSize ?? 0) !== (request.options.llamaContextSize ?? 0) ||
          (before.llamaGpuLayers ?? -1) !== (request.options.llamaGpuLayers ?? -1);
        if (changed || request.options.memoryBudgetMb !== before.memoryBudgetMb) {
          // Loaded models were built for the old settings: drop them once the current job is done.
          this.enqueue({ seq: -1, label: 'reconfigure', controller: new AbortController(), work: async () => (changed ? this.ctx.resident.clear() : this.ctx.resident.makeRoom(0)) });
        }
        this.reply(request.seq, { ok: true, value: { options: withoutApiKeys(this.ctx.options()), chain: this.ctx.registry.chain(request.options.provider) } });
        return;
      }
      case 'cancel':
        this.reply(request.seq, { ok: true, value: { jobId: request.jobId, state: this.cancel(request.jobId) } });
        return;
      case 'load':
        this.enqueue({ seq: request.seq, label: `load ${request.modelDir}`, controller: new AbortController(), work: () => this.load(request.kind, request.modelDir) });
        return;
      case 'unload':
        this.enqueue({ seq: request.seq, label: 'unload', controller: new AbortController(), work: () => this.unload(request.modelDir) });
        return;
      case 'embed':
        // Through the serial queue like a run: an index batch waits for the generation in progress.
        this.enqueue({ seq: request.seq, label: `embed ${request.inputs.length}`, controller: new AbortController(), work: (signal) => embed(this.ctx, path.resolve(request.modelDir), request.inputs, signal) });
        return;
      case 'run': {
        if (this.current?.jobId === request.jobId || this.queue.some((w) => w.jobId === request.jobId)) {
          throw new StudioError('INVALID_INPUT', `Job ${request.jobId} is already running or queued in the engine.`);
        }
        const controller = new AbortController();
        this.enqueue({ seq: request.seq, jobId: request.jobId, label: `run ${request.jobId}`, controller, work: (signal) => this.run(request, signal) });
        return;
      }
    }
  }

  private enqueue(work: QueuedWork): void {
    this.queue.push(work);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const work = this.queue.shift()!;
        this.current = work;
        this.ctx.resident.beginJob();
        try {
          if (work.controller.signal.aborted) throw new StudioError('CANCELLED', 'The generation was cancelled before it started.');
          const value = await work.work(work.controller.signal);
          if (work.seq >= 0) this.reply(work.seq, { ok: true, value });
        } catch (error) {
          if (!(error instanceof StudioError)) this.log('error', `${work.label} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          if (work.seq >= 0) this.reply(work.seq, { ok: false, error });
        } finally {
          this.ctx.resident.endJob();
          this.current = null;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private cancel(jobId: string): 'running' | 'queued' | 'unknown' {
    if (this.current?.jobId === jobId) {
      this.current.controller.abort();
      return 'running';
    }
    const index = this.queue.findIndex((w) => w.jobId === jobId);
    if (index >= 0) {
      const [work] = this.queue.splice(index, 1);
      this.reply(work!.seq, { ok: false, error: new StudioError('CANCELLED', 'The generation was cancelled before it started.') });
      return 'queued';
    }
    return 'unknown';
  }

  private async run(request: RunRequest, signal: AbortSignal): Promise<RunResult> {
    const jobId = request.jobId;
    const hooks: RunHooks = {
      signal,
      onProgress: (step, totalSteps, message) => this.send({ type: 'progress', jobId, step, totalSteps, ...(message === undefined ? {} : { message }) }),
      onToken: (text, tokens) => this.send({ type: 'token', jobId, text, tokens }),
      onPreview: (step, dataUrl) => this.send({ type: 'preview', jobId, step, dataUrl }),
    };
    const context: RunContext = { ctx: this.ctx, hooks, outDir: path.resolve(request.outDir) };
    const modelDir = path.resolve(request.modelDir);
    const run = request.run;
    try {
      switch (run.kind) {
        case 'text':
          return await this.runners.text(modelDir, run, context);
        case 'image':
          return await this.runners.image(modelDir, run, context);
        case 'music':
          return await this.runners.music(modelDir, run, context);
        case 'upscale':
          return await this.runners.upscale(modelDir, run, context);
      }
    } catch (error) {
      if (signal.aborted && !(error instanceof StudioError)) throw new StudioError('CANCELLED', 'The generation was cancelled.');
      const size = run.kind === 'image' ? `${run.params.width}×${run.params.height}, batch ${run.params.batch}` : run.kind === 'upscale' ? `tiles of ${run.params.tile} px` : undefined;
      throw describeRunFailure(error, { kind: run.kind, ...(size ? { size } : {}) }) ?? error;
    }
  }

  private async load(kind: 'text' | 'image' | 'music', modelDir: string): Promise<{ provider: ProviderName | LlamaProviderName | 'remote'; providerNote?: string }> {
    const dir = path.resolve(modelDir);
    if (kind === 'text' && isRemoteModelPath(dir)) return { provider: 'remote', providerNote: 'a model on an OpenAI-compatible server: nothing is loaded here' };
    if (kind === 'text' && isGgufModelPath(dir)) {
      const loaded = await (await import('./gguf/generate')).loadGgufModel(this.ctx, dir);
      return { provider: loaded.provider, providerNote: loaded.providerNote };
    }
    if (kind === 'text') {
      const loaded = await loadTextModel(this.ctx, dir);
      return { provider: loaded.provider, providerNote: loaded.providerNote };
    }
    if (kind === 'music') {
      const loaded = await loadMusicModel(this.ctx, dir);
      return { provider: loaded.provider, providerNote: loaded.providerNote };
    }
    const inspection = inspectModelDir(dir);
    if (inspection.kind !== 'image' || !inspection.ok) {
      throw new StudioError('MODEL_INVALID', `${dir}: ${inspection.problems.join('; ') || 'this is not an image model folder'}`);
    }
    let first: { provider: ProviderName; providerNote?: string } | null = null;
    for (const part of ['text_encoder', 'unet', 'vae_decoder']) {
      const session = await this.ctx.sessions.load(path.join(dir, part, 'model.onnx'));
      first ??= { provider: session.provider, providerNote: session.providerNote };
    }
    return first!;
  }

  private async unload(modelDir?: string): Promise<{ unloaded: number }> {
    const dir = modelDir === undefined ? undefined : path.resolve(modelDir);
    const removed = [
      ...(await unloadTextModels(this.ctx, dir)),
      ...(await unloadMusicModels(this.ctx, dir)),
      ...(await unloadEmbedders(this.ctx, dir)),
      ...(await this.ctx.sessions.unload(dir === undefined ? undefined : `${dir}${path.sep}`)),
    ];
    return { unloaded: removed.length };
  }

  async info(): Promise<EngineInfo> {
    const options = this.ctx.options();
    return {
      pid: process.pid,
      platform: process.platform,
      arch: process.arch,
      onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
      transformers: transformersEnv.version,
      providers: await this.ctx.registry.statusAll(),
      chain: this.ctx.registry.chain(options.provider),
      intraOpThreads: resolveThreads(options),
    };
  }

  status(): { busy: string | null; running: string | null; queued: string[]; options: EngineOptions; residentBytes: number; resident: { key: string; kind: string; bytes: number }[] } {
    return {
      busy: this.current?.label ?? null,
      running: this.current?.jobId ?? null,
      queued: this.queue.map((w) => w.jobId ?? w.label),
      options: withoutApiKeys(this.ctx.options()),
      residentBytes: this.ctx.resident.totalBytes(),
      resident: this.ctx.resident.list(),
    };
  }
}
