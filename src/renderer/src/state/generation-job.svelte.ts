import type { CallInput, Generation } from '../../../shared/contract';
import { attempt } from '../lib/errors';
import { randomSeed } from '../lib/format';
import { isFinished, jobs } from './jobs.svelte';
import { num } from './params-read';

export type SeedMode = 'random' | 'fixed' | 'reuse';
type MediaKind = 'image' | 'music';
type StartRequest = Extract<CallInput<'jobs.start'>, { kind: MediaKind }>;

/** The seed a new job runs with: the fixed one, the last one used (when reusing and there is one), or a fresh random one. */
export function resolveSeed(mode: SeedMode, seed: number, lastSeed: number | null): number {
  if (mode === 'fixed') return seed;
  if (mode === 'reuse' && lastSeed !== null) return lastSeed;
  return randomSeed();
}

/** A remix runs with the seed its generation was made with, when that is known. */
export function keepSeedOf(generation: Generation, studio: { seed: number; seedMode: SeedMode }): void {
  const seed = num(generation.params, 'seed') ?? generation.seed;
  if (seed === undefined || seed === null) return;
  studio.seed = seed;
  studio.seedMode = 'fixed';
}

const PICK_A_MODEL: Record<MediaKind, string> = {
  image: 'Pick an image model first. Install one from the Models view.',
  music: 'Pick a music model first. Install one from the Models view.',
};

/**
 * One studio tab's generation job, shared by the Image and Music tabs: starts it, follows it
 * through the queue's jobs.changed / jobs.progress events (busy, progress, ETA), cancels it, and
 * keeps the strip of recent results (loaded from the library, then fed by finished jobs).
 */
export class GenerationJob<K extends MediaKind> {
  jobId = $state<string | null>(null);
  starting = $state(false);
  error = $state<string | null>(null);
  results = $state.raw<Generation[]>([]);

  job = $derived(this.jobId ? jobs.items.find((job) => job.id === this.jobId) : undefined);
  progress = $derived(this.jobId ? jobs.progress[this.jobId] : undefined);
  /** 0..1, from the live progress event or else the job's last known state. */
  fraction = $derived(this.progress?.progress ?? this.job?.progress ?? 0);
  busy = $derived(this.starting || (this.job !== undefined && !isFinished(this.job.state)));

  readonly #kind: K;
  readonly #onResults: (fresh: Generation[]) => void;
  #started = false;

  /** `onResults` sees the generations of each finished job of this kind, newest first. */
  constructor(kind: K, onResults: (fresh: Generation[]) => void = () => {}) {
    this.#kind = kind;
    this.#onResults = onResults;
  }

  /** Subscribes once and loads the recent results; false when it had already been called. */
  init(): boolean {
    if (this.#started) return false;
    this.#started = true;
    jobs.onFinished((job) => {
      if (job.kind !== this.#kind || job.state !== 'done') return;
      void this.#addResults(job.generationIds);
    });
    void this.#loadRecent();
    return true;
  }

  async #loadRecent(): Promise<void> {
    try {
      const page = await window.studio.library.list({ kind: this.#kind, limit: 12 });
      this.results = page.items;
    } catch {
      // the strip just starts empty; the library view reports errors
    }
  }

  async #addResults(ids: string[]): Promise<void> {
    const generations = await Promise.all(ids.map((id) => window.studio.library.get({ id }).catch(() => null)));
    const fresh = generations.filter((g): g is Generation => g !== null);
    this.results = [...fresh, ...this.results.filter((g) => !fresh.some((f) => f.id === g.id))].slice(0, 48);
    this.#onResults(fresh);
  }

  /** Whether a new job may start now (none is running); clears the last error when it may. */
  canStart(): boolean {
    if (this.busy) return false;
    this.error = null;
    return true;
  }

  /** `canStart`, and a model is picked (else `error` says to pick one). */
  canStartWith(model: string): boolean {
    if (!this.canStart()) return false;
    if (!model) this.error = PICK_A_MODEL[this.#kind];
    return model !== '';
  }

  /** Queues a job of this tab's kind; false, with `error` set, when the call failed. */
  async start(request: Extract<StartRequest, { kind: K }>): Promise<boolean> {
    return attempt(async () => (this.jobId = (await window.studio.jobs.start(request)).jobId), {
      error: (message) => (this.error = message),
      busy: (on) => (this.starting = on),
    });
  }

  async cancel(): Promise<void> {
    if (this.jobId) await jobs.cancel(this.jobId);
  }
}
