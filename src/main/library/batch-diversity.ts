import type { Generation } from '../../shared/contract';
import { prepare, type ReadableDB, type WritableDB } from './db';

/**
 * Diversity of a batch (migration 005): the generations one job made together (an image batch,
 * music variations) carry the mean pairwise cosine distance of their vectors, so it travels with
 * each item's record and exports. A batch is what the jobs table says a job produced.
 */

export type BatchDiversity = NonNullable<Generation['batchDiversity']>;

export interface BatchDiversityColumns {
  batch_diversity: number | null;
  batch_diversity_model: string | null;
  batch_diversity_count: number | null;
}

export function batchDiversityOf(row: BatchDiversityColumns): BatchDiversity | null {
  if (row.batch_diversity === null || row.batch_diversity_model === null || row.batch_diversity_count === null) return null;
  return { value: row.batch_diversity, model: row.batch_diversity_model, count: row.batch_diversity_count };
}

/** The batches (two or more generations from one job) that hold any of these generations. */
export function listBatchesOf(db: ReadableDB, ids: string[]): string[][] {
  const rows = prepare<{ generation_ids: string }>(
    db,
    `SELECT DISTINCT j.generation_ids FROM jobs j, json_each(j.generation_ids) v
     WHERE json_array_length(j.generation_ids) >= 2 AND v.value IN (SELECT value FROM json_each(?))`,
  ).all(JSON.stringify(ids));
  return rows.map((r) => JSON.parse(r.generation_ids) as string[]);
}

/** Writes the batch's diversity onto each of its generations; null clears it. Returns the ids changed. */
export function setBatchDiversity(db: WritableDB, ids: string[], diversity: BatchDiversity | null): string[] {
  const update = prepare(db, 'UPDATE generations SET batch_diversity = ?, batch_diversity_model = ?, batch_diversity_count = ? WHERE id = ?');
  return ids.filter((id) => update.run(diversity?.value ?? null, diversity?.model ?? null, diversity?.count ?? null, id).changes > 0);
}
