import { setBatchDiversity } from './batch-diversity';
import { prepare, type ReadableDB, type WritableDB } from './db';
import { originOf } from './generation-origin';
import { readGenerationsByIds } from './generation-rows';
import { tagGenerations } from './generations';
import { recordOf, writeRecord, type GenerationRecordFile } from './records';

/** Between the database and the generation records (records.ts): reading them out, and rebuilding rows from them. */

/** The full records (see records.ts) of these generations, as the database holds them now. */
export function readRecords(db: ReadableDB, ids: string[]): GenerationRecordFile[] {
  if (ids.length === 0) return [];
  const storage = new Map<string, { ext: string; createdAt: number }>();
  for (const row of prepare<{ id: string; ext: string; created_at: number }>(
    db,
    'SELECT id, ext, created_at FROM assets WHERE generation_id IN (SELECT value FROM json_each(?))',
  ).all(JSON.stringify(ids))) {
    storage.set(row.id, { ext: row.ext, createdAt: row.created_at });
  }
  return readGenerationsByIds(db, ids).map((g) =>
    recordOf(g, (assetId) => {
      const found = storage.get(assetId);
      if (!found) throw new Error(`asset ${assetId} vanished while its record was read`);
      return found;
    }),
  );
}

/** Writes the records of these generations as the database holds them now, 500 read at a time. */
export function writeRecordsOf(db: ReadableDB, root: string, ids: string[], options: { durable: boolean }): void {
  for (let i = 0; i < ids.length; i += 500) {
    for (const record of readRecords(db, ids.slice(i, i + 500))) writeRecord(root, record, options);
  }
}

/**
 * Inserts a generation exactly as its record describes it (same ids, timestamps, rating, tags,
 * trash state), with only the assets `keepAsset` accepts and without its parent link (the caller
 * links parents once every record is in). Returns false when the id is already in the library.
 */
export function insertFromRecord(db: WritableDB, record: GenerationRecordFile, keepAsset: (asset: GenerationRecordFile['assets'][number]) => boolean): boolean {
  const g = record.generation;
  if (prepare(db, 'SELECT 1 FROM generations WHERE id = ?').get(g.id)) return false;
  prepare(
    db,
    `INSERT INTO generations (id, search_rowid, kind, model, model_digest, prompt, negative_prompt, seed, params, parent_id,
       provider, provider_note, timings, output_text, rating, favourite, notes, created_at, deleted_at, adherence, adherence_model)
     VALUES (@id, (SELECT coalesce(max(search_rowid), 0) + 1 FROM generations), @kind, @model, @modelDigest, @prompt, @negativePrompt,
       @seed, @params, NULL, @provider, @providerNote, @timings, @outputText, @rating, @favourite, @notes, @createdAt, @deletedAt, @adherence, @adherenceModel)`,
  ).run({
    ...originOf(g),
    params: JSON.stringify(g.params),
    provider: g.provider,
    providerNote: g.providerNote,
    timings: JSON.stringify(g.timings),
    outputText: g.outputText,
    rating: g.rating,
    favourite: g.favourite ? 1 : 0,
    notes: g.notes,
    createdAt: g.createdAt,
    deletedAt: g.deletedAt,
    adherence: g.adherence?.score ?? null,
    adherenceModel: g.adherence?.model ?? null,
  });
  if (g.batchDiversity) setBatchDiversity(db, [g.id], g.batchDiversity);
  const insertAsset = prepare(
    db,
    `INSERT OR IGNORE INTO assets (id, generation_id, sha256, ext, mime, bytes, role, width, height, duration_ms, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const a of record.assets) {
    if (!keepAsset(a)) continue;
    insertAsset.run(a.id, g.id, a.sha256, a.ext, a.mime, a.bytes, a.role, a.width, a.height, a.durationMs, a.createdAt);
  }
  if (g.tags.length > 0) tagGenerations(db, [g.id], { add: g.tags });
  return true;
}

/** Links a rebuilt generation to its parent when the parent is in the library. */
export function linkParent(db: WritableDB, id: string, parentId: string): boolean {
  return prepare(db, 'UPDATE generations SET parent_id = ? WHERE id = ? AND EXISTS (SELECT 1 FROM generations WHERE id = ?)').run(parentId, id, parentId).changes > 0;
}
