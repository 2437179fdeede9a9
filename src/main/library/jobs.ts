import type { Job, JobState } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import type { GenerationKind } from '../../shared/params';
import { parseJson, prepare, type ReadableDB, type WritableDB } from './db';

interface JobRow {
  id: string;
  kind: GenerationKind;
  params: string;
  parent_id: string | null;
  state: JobState;
  priority: number;
  progress: number;
  step: number;
  total_steps: number;
  error: string | null;
  generation_ids: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface NewJob {
  kind: GenerationKind;
  params: Record<string, unknown>;
  parentId?: string | null;
  priority?: number;
  totalSteps?: number;
}

export interface JobPatch {
  state?: JobState;
  progress?: number;
  step?: number;
  totalSteps?: number;
  error?: { code: string; message: string } | null;
  generationIds?: string[];
}

const FINISHED: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    params: parseJson<Record<string, unknown>>(row.params, {}),
    parentId: row.parent_id,
    state: row.state,
    priority: row.priority,
    progress: row.progress,
    step: row.step,
    totalSteps: row.total_steps,
    error: parseJson<{ code: string; message: string } | null>(row.error, null),
    generationIds: parseJson<string[]>(row.generation_ids, []),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

function notFound(id: string): StudioError {
  return new StudioError('NOT_FOUND', `Job ${id} is not in the queue any more; refresh the queue.`);
}

export function getJob(db: ReadableDB, id: string): Job {
  const row = prepare<JobRow>(db, 'SELECT * FROM jobs WHERE id = ?').get(id);
  if (!row) throw notFound(id);
  return toJob(row);
}

export function insertJob(db: WritableDB, id: string, job: NewJob, now: number): Job {
  prepare(db, `INSERT INTO jobs (id, kind, params, parent_id, state, priority, total_steps, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)`).run(
    id,
    job.kind,
    JSON.stringify(job.params),
    job.parentId ?? null,
    job.priority ?? 0,
    job.totalSteps ?? 0,
    now,
  );
  return getJob(db, id);
}

/**
 * Applies a progress or state change. Entering "running" stamps started_at (once); entering a
 * finished state stamps finished_at; re-queueing clears finished_at so a resumed job looks fresh.
 */
export function updateJob(db: WritableDB, id: string, patch: JobPatch, now: number): Job {
  if (patch.progress !== undefined && !(patch.progress >= 0 && patch.progress <= 1)) {
    throw new StudioError('INVALID_INPUT', 'Job progress is a fraction between 0 and 1.');
  }
  const sets: string[] = [];
  const values: Record<string, unknown> = { id, now };
  if (patch.state !== undefined) {
    sets.push('state = @state');
    values.state = patch.state;
    if (patch.state === 'running') sets.push('started_at = coalesce(started_at, @now)');
    if (FINISHED.has(patch.state)) sets.push('finished_at = @now');
    if (patch.state === 'queued') sets.push('finished_at = NULL');
  }
  if (patch.progress !== undefined) {
    sets.push('progress = @progress');
    values.progress = patch.progress;
  }
  if (patch.step !== undefined) {
    sets.push('step = @step');
    values.step = patch.step;
  }
  if (patch.totalSteps !== undefined) {
    sets.push('total_steps = @totalSteps');
    values.totalSteps = patch.totalSteps;
  }
  if (patch.error !== undefined) {
    sets.push('error = @error');
    values.error = patch.error === null ? null : JSON.stringify({ code: patch.error.code, message: patch.error.message });
  }
  if (patch.generationIds !== undefined) {
    sets.push('generation_ids = @generationIds');
    values.generationIds = JSON.stringify(patch.generationIds);
  }
  if (sets.length === 0) return getJob(db, id);
  if (prepare(db, `UPDATE jobs SET ${sets.join(', ')} WHERE id = @id`).run(values).changes === 0) throw notFound(id);
  return getJob(db, id);
}

/** Newest first; `states` narrows the list (e.g. the queue view asks for unfinished jobs). */
export function listJobs(db: ReadableDB, options: { limit?: number; states?: JobState[] } = {}): Job[] {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 10_000);
  const rows = options.states
    ? prepare<JobRow>(db, 'SELECT * FROM jobs WHERE state IN (SELECT value FROM json_each(?)) ORDER BY created_at DESC, id DESC LIMIT ?').all(JSON.stringify(options.states), limit)
    : prepare<JobRow>(db, 'SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?').all(limit);
  return rows.map(toJob);
}

/** The job to run next: highest priority first, then first come first served. */
export function nextQueuedJob(db: ReadableDB): Job | null {
  const row = prepare<JobRow>(db, `SELECT * FROM jobs WHERE state = 'queued' ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1`).get();
  return row ? toJob(row) : null;
}

/**
 * Takes the next queued job (highest priority, then first come) and marks it running in ONE
 * statement, so two claimers can never both get the same job.
 */
export function claimNextQueuedJob(db: WritableDB, now: number): Job | null {
  const row = prepare<JobRow>(
    db,
    `UPDATE jobs SET state = 'running', started_at = coalesce(started_at, @now), progress = 0, step = 0
     WHERE state = 'queued' AND id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1)
     RETURNING *`,
  ).get({ now });
  return row ? toJob(row) : null;
}

/** At start-up: whatever was running when the app died becomes "interrupted" (resumable). */
export function markRunningInterrupted(db: WritableDB, now: number): string[] {
  return db.transaction(() => {
    const ids = prepare<{ id: string }>(db, `SELECT id FROM jobs WHERE state = 'running'`).all().map((r) => r.id);
    prepare(db, `UPDATE jobs SET state = 'interrupted', finished_at = ?, error = ? WHERE state = 'running'`).run(
      now,
      JSON.stringify({ code: 'ENGINE_CRASHED', message: 'Atelier stopped while this job was running. Resume it to start again.' }),
    );
    return ids;
  })();
}

export function reorderJob(db: WritableDB, id: string, priority: number): Job {
  if (!Number.isFinite(priority)) throw new StudioError('INVALID_INPUT', 'A job priority is a number.');
  if (prepare(db, 'UPDATE jobs SET priority = ? WHERE id = ?').run(Math.trunc(priority), id).changes === 0) throw notFound(id);
  return getJob(db, id);
}

/** Removes finished jobs older than `before` so the table does not grow forever. */
export function deleteFinishedJobs(db: WritableDB, before: number): number {
  return prepare(db, `DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled') AND coalesce(finished_at, created_at) < ?`).run(before).changes;
}
