import type { EngineMessage, EngineOptions, EngineRequest, EngineRequestBody } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import type { EngineChild, EngineExit, SpawnEngine } from './types';

type StreamMessage = Extract<EngineMessage, { type: 'progress' | 'token' | 'preview' | 'log' }>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface EngineHostOptions {
  /** Streaming messages (progress, tokens, previews, logs) from whichever engine is current. */
  onStream?(message: StreamMessage): void;
  /** Called after every unexpected exit, before the restart. */
  onCrash?(exit: EngineExit): void;
  log?(message: string): void;
  /** Backoff steps in ms for restarts after crashes; a healthy minute resets it. */
  backoffMs?: number[];
  readyTimeoutMs?: number;
}

/**
 * Owns the engine process: sequence-numbered requests, one reply each; restart with backoff after a
 * crash (pending requests fail with ENGINE_CRASHED and the exit reason); hard cancel by kill+restart.
 */
export class EngineHost {
  private child: EngineChild | null = null;
  private ready: Promise<void> | null = null;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private crashes = 0;
  private lastStart = 0;
  private stopping = false;
  private options: EngineOptions | null = null;

  constructor(
    private readonly spawn: SpawnEngine,
    private readonly hooks: EngineHostOptions = {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the engine if it is not running; resolves once it said it is ready. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    this.stopping = false;
    const child = this.spawn();
    this.child = child;
    this.lastStart = Date.now();
    this.ready = new Promise<void>((resolve, reject) => {
      const timeoutMs = this.hooks.readyTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        // A hung engine would otherwise stay current forever and fail every later request: kill it and
        // forget it (its exit is then ignored as a replaced child), so the next request starts a fresh one.
        if (this.child === child) this.detach();
        child.kill();
        this.hooks.log?.(`engine did not say ready within ${timeoutMs} ms; killed it`);
        reject(new StudioError('ENGINE_UNAVAILABLE', `The engine did not start within ${timeoutMs / 1000} s and was stopped. Try again; the next request starts a fresh engine. If it keeps happening, check the log.`));
      }, timeoutMs);
      child.onMessage((message) => {
        if (this.child !== child) return; // a stopped engine's late words must not reach the current one's listeners
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else this.handle(message);
      });
      child.onExit((exit) => {
        clearTimeout(timer);
        reject(new StudioError('ENGINE_CRASHED', `The engine stopped while starting (${exit.reason}).`));
        this.handleExit(child, exit);
      });
    });
    const readyPromise = this.ready;
    readyPromise.catch(() => undefined);
    return readyPromise.then(async () => {
      if (this.options && this.child === child) await this.send({ type: 'configure', options: this.options });
    });
  }

  async configure(options: EngineOptions): Promise<void> {
    this.options = options;
    if (this.child) await this.request({ type: 'configure', options });
  }

  /** Sends one request and waits for its reply; starts the engine first if needed. */
  async request<T>(body: EngineRequestBody): Promise<T> {
    await this.start();
    return this.send<T>(body);
  }

  private send<T>(body: EngineRequestBody): Promise<T> {
    const child = this.child;
    if (!child) return Promise.reject(new StudioError('ENGINE_UNAVAILABLE', 'The engine is not running.'));
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...body, seq } as EngineRequest);
    });
  }

  /** Hard cancel: kill the engine now (the running job fails as cancelled by its owner) and start a fresh one. */
  async restart(reason: string): Promise<void> {
    const child = this.child;
    if (child) {
      this.failPending(new StudioError('CANCELLED', reason));
      this.detach();
      child.kill();
    }
    await this.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    this.failPending(new StudioError('ENGINE_UNAVAILABLE', 'Atelier is shutting down.'));
    this.detach();
    child?.kill();
  }

  private detach(): void {
    this.child = null;
    this.ready = null;
  }

  private handle(message: EngineMessage): void {
    if (message.type === 'reply') {
      const pending = this.pending.get(message.seq);
      if (!pending) return;
      this.pending.delete(message.seq);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new StudioError(message.error.code, message.error.message));
      return;
    }
    if (message.type === 'ready') return;
    this.hooks.onStream?.(message);
  }

  private failPending(error: StudioError): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private handleExit(child: EngineChild, exit: EngineExit): void {
    if (this.child !== child) return; // a child we already replaced on purpose
    this.detach();
    this.failPending(
      new StudioError('ENGINE_CRASHED', `The inference engine stopped unexpectedly (${exit.reason}). It has been restarted; run the job again. If it keeps happening, try the CPU provider in Settings or a smaller model.`),
    );
    if (this.stopping) return;
    this.hooks.onCrash?.(exit);
    if (Date.now() - this.lastStart > 60_000) this.crashes = 0;
    const steps = this.hooks.backoffMs ?? [100, 500, 1000, 2000, 5000];
    const delay = steps[Math.min(this.crashes, steps.length - 1)];
    this.crashes++;
    this.hooks.log?.(`engine ${exit.reason}; restarting in ${delay} ms`);
    setTimeout(() => {
      if (!this.stopping && !this.child) void this.start().catch((error: unknown) => this.hooks.log?.(`engine restart failed: ${String(error)}`));
    }, delay).unref();
  }
}
