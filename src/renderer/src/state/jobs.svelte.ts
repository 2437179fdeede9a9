import type { EventPayload, Job, JobState } from '../../../shared/contract';
import { attempt, messageOf } from '../lib/errors';
import { toasts } from './toasts.svelte';

export type JobProgress = EventPayload<'jobs.progress'>;
type FinishedListener = (job: Job) => void;

const FINISHED: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled', 'interrupted']);
const KIND_LABEL = { text: 'Text', image: 'Image', music: 'Music' } as const;

export function isFinished(state: JobState): boolean {
  return FINISHED.has(state);
}

/** The queue as the renderer sees it: jobs.list once, then jobs.changed / jobs.progress events. */
class Jobs {
  items = $state.raw<Job[]>([]);
  progress = $state.raw<Record<string, JobProgress>>({});
  loaded = $state(false);
  paused = $state(false);
  error = $state<string | null>(null);
  running = $derived(this.items.find((job) => job.state === 'running') ?? null);
  active = $derived(this.items.filter((job) => job.state === 'running' || job.state === 'queued'));
  #listeners = new Set<FinishedListener>();
  #unsubscribe: (() => void)[] = [];

  start(): void {
    if (this.#unsubscribe.length > 0) return;
    this.#unsubscribe.push(
      window.studio.on('jobs.changed', (job) => this.#apply(job)),
      window.studio.on('jobs.progress', (progress) => {
        this.progress = { ...this.progress, [progress.jobId]: progress };
      }),
    );
    void this.refresh();
  }

  async refresh(): Promise<void> {
    await attempt(async () => {
      const { items, paused } = await window.studio.jobs.list({ limit: 200 });
      this.items = items;
      this.paused = paused;
      this.error = null;
    }, { error: (message) => (this.error = message) });
    this.loaded = true;
  }

  /** Called with every job that reaches done/failed/cancelled/interrupted while the app is open. */
  onFinished(listener: FinishedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get(jobId: string): Job | undefined {
    return this.items.find((job) => job.id === jobId);
  }

  async cancel(jobId: string, hard = false): Promise<void> {
    try {
      await window.studio.jobs.cancel({ jobId, hard });
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async setPaused(paused: boolean): Promise<void> {
    try {
      this.paused = (await window.studio.jobs.pause({ paused })).paused;
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  /** Moves a queued job ahead of (or behind) the others by one priority step. */
  async nudge(job: Job, by: 1 | -1): Promise<void> {
    try {
      await window.studio.jobs.reorder({ jobId: job.id, priority: Math.max(-10, Math.min(10, job.priority + by)) });
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async resume(jobId: string): Promise<void> {
    try {
      await window.studio.jobs.resume({ jobId });
      toasts.show('Job resumed', 'info');
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  #apply(job: Job): void {
    const previous = this.items.find((item) => item.id === job.id);
    this.items = previous
      ? this.items.map((item) => (item.id === job.id ? job : item))
      : [job, ...this.items];
    const justFinished = isFinished(job.state) && (!previous || previous.state !== job.state);
    if (!justFinished) return;
    // Text jobs stream into the editor, which is feedback enough; a toast per suggestion would be noise.
    if (job.state === 'done' && job.kind !== 'text') {
      const count = job.generationIds.length;
      toasts.show(`${KIND_LABEL[job.kind]} job finished${count > 1 ? ` — ${count} results` : ''}`, 'success');
    } else if (job.state === 'failed') {
      toasts.error(`${KIND_LABEL[job.kind]} job failed: ${job.error?.message ?? 'no reason was given'}`);
    }
    for (const listener of this.#listeners) listener(job);
  }
}

export const jobs = new Jobs();
