import type { Generation } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import type { GenerationKind } from '../../shared/params';
import { prepare, type ReadableDB, type WritableDB } from './db';
import type { StoredFile } from './file-store';
import { GENERATION_COLUMNS, hydrate, readGenerationsByIds, type GenerationRow } from './generation-rows';

/**
 * Generations in the database: one by id, inserting, lineage, rating, tags, trash and the assets
 * they name. Reading rows is generation-rows.ts; the grid's pages generation-query.ts; full-text
 * search generation-search.ts; records in and out generation-records.ts.
 */

/** A file a generation produced, already written into the store. */
export interface CommittedFile extends StoredFile {
  mime: string;
  role: string;
  width?: number | null;
  height?: number | null;
  durationMs?: number | null;
}

export interface GenerationRecord {
  kind: GenerationKind;
  model: string;
  modelDigest?: string | null;
  prompt?: string;
  negativePrompt?: string;
  seed?: number | null;
  params?: Record<string, unknown>;
  parentId?: string | null;
  provider?: string | null;
  providerNote?: string | null;
  timings?: Record<string, number>;
  outputText?: string | null;
  notes?: string;
}

function notFound(id: string): StudioError {
  return new StudioError('NOT_FOUND', `Generation ${id} is not in the library. It may have been emptied from the trash; refresh the library.`);
}

export function findGeneration(db: ReadableDB, id: string): Generation | null {
  const row = prepare<GenerationRow>(db, `SELECT ${GENERATION_COLUMNS} FROM generations g WHERE g.id = ?`).get(id);
  return row ? hydrate(db, [row])[0]! : null;
}

export function getGeneration(db: ReadableDB, id: string): Generation {
  const generation = findGeneration(db, id);
  if (!generation) throw notFound(id);
  return generation;
}

/** Inserts one generation and its assets. Call inside a transaction together with the file writes' commit. */
export function insertGeneration(db: WritableDB, id: string, record: GenerationRecord, files: CommittedFile[], now: number, newAssetId: () => string): void {
  if (record.parentId && !prepare(db, 'SELECT 1 FROM generations WHERE id = ?').get(record.parentId)) {
    throw new StudioError('NOT_FOUND', `The generation this one was remixed from (${record.parentId}) is no longer in the library.`);
  }
  prepare(
    db,
    `INSERT INTO generations (id, search_rowid, kind, model, model_digest, prompt, negative_prompt, seed, params, parent_id,
       provider, provider_note, timings, output_text, notes, created_at)
     VALUES (@id, (SELECT coalesce(max(search_rowid), 0) + 1 FROM generations), @kind, @model, @modelDigest, @prompt, @negativePrompt,
       @seed, @params, @parentId, @provider, @providerNote, @timings, @outputText, @notes, @createdAt)`,
  ).run({
    id,
    kind: record.kind,
    model: record.model,
    modelDigest: record.modelDigest ?? null,
    prompt: record.prompt ?? '',
    negativePrompt: record.negativePrompt ?? '',
    seed: record.seed ?? null,
    params: JSON.stringify(record.params ?? {}),
    parentId: record.parentId ?? null,
    provider: record.provider ?? null,
    providerNote: record.providerNote ?? null,
    timings: JSON.stringify(record.timings ?? {}),
    outputText: record.outputText ?? null,
    notes: record.notes ?? '',
    createdAt: now,
  });
  const insertAsset = prepare(
    db,
    `INSERT INTO assets (id, generation_id, sha256, ext, mime, bytes, role, width, height, duration_ms, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const file of files) {
    insertAsset.run(newAssetId(), id, file.sha256, file.ext, file.mime, file.bytes, file.role, file.width ?? null, file.height ?? null, file.durationMs ?? null, now);
  }
}

/** Generations remixed directly from `id`, oldest first. */
export function listChildren(db: ReadableDB, id: string): Generation[] {
  const rows = prepare<GenerationRow>(db, `SELECT ${GENERATION_COLUMNS} FROM generations g WHERE g.parent_id = ? ORDER BY g.created_at, g.id`).all(id);
  return hydrate(db, rows);
}

/** The remix chain above `id`: its parent first, then the parent's parent, up to the origin. */
export function listAncestors(db: ReadableDB, id: string): Generation[] {
  const ids = prepare<{ id: string }>(
    db,
    `WITH RECURSIVE chain(id, parent_id, depth) AS (
       SELECT id, parent_id, 0 FROM generations WHERE id = ?
       UNION ALL
       SELECT g.id, g.parent_id, chain.depth + 1 FROM generations g JOIN chain ON g.id = chain.parent_id WHERE chain.depth < 10000
     )
     SELECT id FROM chain WHERE depth > 0 ORDER BY depth`,
  )
    .all(id)
    .map((r) => r.id);
  return readGenerationsByIds(db, ids);
}

export function rateGeneration(db: WritableDB, id: string, rating: number): Generation {
  if (!Number.isInteger(rating) || rating < 0 || rating > 5) throw new StudioError('INVALID_INPUT', 'A rating is a whole number from 0 to 5.');
  if (prepare(db, 'UPDATE generations SET rating = ? WHERE id = ?').run(rating, id).changes === 0) throw notFound(id);
  return getGeneration(db, id);
}

export function setFavourite(db: WritableDB, id: string, favourite: boolean): Generation {
  if (prepare(db, 'UPDATE generations SET favourite = ? WHERE id = ?').run(favourite ? 1 : 0, id).changes === 0) throw notFound(id);
  return getGeneration(db, id);
}

export function setGenerationNotes(db: WritableDB, id: string, notes: string): Generation {
  if (prepare(db, 'UPDATE generations SET notes = ? WHERE id = ?').run(notes, id).changes === 0) throw notFound(id);
  return getGeneration(db, id);
}

function normaliseTag(name: string): string {
  return name.trim().replace(/\s+/g, ' ');
}

export function tagGeneration(db: WritableDB, id: string, change: { add?: string[]; remove?: string[] }): Generation {
  return db.transaction(() => {
    if (!prepare(db, 'SELECT 1 FROM generations WHERE id = ?').get(id)) throw notFound(id);
    tagGenerations(db, [id], change);
    return getGeneration(db, id);
  })();
}

/**
 * One tag change applied to many generations at once; unknown ids are skipped. Returns how many
 * exist and the added tags as stored (a tag keeps the spelling it was first created with).
 */
export function tagGenerations(db: WritableDB, ids: string[], change: { add?: string[]; remove?: string[] }): { count: number; added: string[] } {
  const idList = JSON.stringify(ids);
  return db.transaction(() => {
    const added: string[] = [];
    for (const raw of change.add ?? []) {
      const name = normaliseTag(raw);
      if (name.length === 0 || name.length > 64) throw new StudioError('INVALID_INPUT', 'A tag has 1 to 64 characters.');
      prepare(db, 'INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING').run(name);
      added.push(prepare<{ name: string }>(db, 'SELECT name FROM tags WHERE name = ?').get(name)!.name);
      prepare(
        db,
        'INSERT OR IGNORE INTO generation_tags (generation_id, tag_id) SELECT g.id, t.id FROM generations g JOIN tags t ON t.name = ? WHERE g.id IN (SELECT value FROM json_each(?))',
      ).run(name, idList);
    }
    for (const raw of change.remove ?? []) {
      prepare(db, 'DELETE FROM generation_tags WHERE generation_id IN (SELECT value FROM json_each(?)) AND tag_id = (SELECT id FROM tags WHERE name = ?)').run(idList, normaliseTag(raw));
    }
    const count = prepare<{ n: number }>(db, 'SELECT count(*) AS n FROM generations WHERE id IN (SELECT DISTINCT value FROM json_each(?))').get(idList)!.n;
    return { count, added };
  })();
}

/** Every tag with how many live generations carry it, most used first. */
export function listTags(db: ReadableDB): { name: string; count: number }[] {
  return prepare<{ name: string; count: number }>(
    db,
    `SELECT t.name, count(g.id) AS count FROM tags t
     LEFT JOIN generation_tags gt ON gt.tag_id = t.id
     LEFT JOIN generations g ON g.id = gt.generation_id AND g.deleted_at IS NULL
     GROUP BY t.id ORDER BY count DESC, t.name COLLATE NOCASE`,
  ).all();
}

/** Moves generations to the trash. Returns how many were live. */
export function softDeleteGenerations(db: WritableDB, ids: string[], now: number): number {
  return prepare(db, 'UPDATE generations SET deleted_at = ? WHERE deleted_at IS NULL AND id IN (SELECT value FROM json_each(?))').run(now, JSON.stringify(ids)).changes;
}

/** Takes generations out of the trash. Returns how many were in it. */
export function restoreGenerations(db: WritableDB, ids: string[]): number {
  return prepare(db, 'UPDATE generations SET deleted_at = NULL WHERE deleted_at IS NOT NULL AND id IN (SELECT value FROM json_each(?))').run(JSON.stringify(ids)).changes;
}

/**
 * Deletes trashed rows (and their asset rows); returns the store files no remaining asset names,
 * for the caller to unlink after the transaction commits.
 */
export function deleteTrashedRows(db: WritableDB, olderThan: number | null): { generations: number; ids: string[]; unreferenced: { sha256: string; ext: string }[] } {
  const trashed = olderThan === null ? 'deleted_at IS NOT NULL' : 'deleted_at IS NOT NULL AND deleted_at <= ?';
  const args = olderThan === null ? [] : [olderThan];
  const ids = prepare<{ id: string }>(db, `SELECT id FROM generations WHERE ${trashed}`)
    .all(...args)
    .map((row) => row.id);
  const files = prepare<{ sha256: string; ext: string }>(
    db,
    `SELECT DISTINCT a.sha256, a.ext FROM assets a JOIN generations g ON g.id = a.generation_id WHERE g.${trashed}`,
  ).all(...args);
  const generations = prepare(db, `DELETE FROM generations WHERE ${trashed}`).run(...args).changes;
  const stillUsed = prepare(db, 'SELECT 1 FROM assets WHERE sha256 = ? AND ext = ? LIMIT 1');
  return { generations, ids, unreferenced: files.filter((f) => !stillUsed.get(f.sha256, f.ext)) };
}

export interface AssetLocation {
  sha256: string;
  ext: string;
  mime: string;
  bytes: number;
}

export function findAsset(db: ReadableDB, assetId: string): AssetLocation | null {
  return prepare<AssetLocation>(db, 'SELECT sha256, ext, mime, bytes FROM assets WHERE id = ?').get(assetId) ?? null;
}

/** Every stored file name (`<sha256>.<ext>`) some asset row refers to. */
export function listReferencedFiles(db: ReadableDB): Set<string> {
  const keys = new Set<string>();
  for (const row of prepare<{ sha256: string; ext: string }>(db, 'SELECT DISTINCT sha256, ext FROM assets').iterate()) keys.add(`${row.sha256}.${row.ext}`);
  return keys;
}

/** Which generation an asset belongs to, and whether that generation is in the trash. */
export function findAssetOwner(db: ReadableDB, assetId: string): { generationId: string; deletedAt: number | null } | null {
  return (
    prepare<{ generationId: string; deletedAt: number | null }>(
      db,
      'SELECT g.id AS generationId, g.deleted_at AS deletedAt FROM assets a JOIN generations g ON g.id = a.generation_id WHERE a.id = ?',
    ).get(assetId) ?? null
  );
}

export function countGenerations(db: ReadableDB): number {
  return prepare<{ n: number }>(db, 'SELECT count(*) AS n FROM generations').get()!.n;
}

/** Every generation id, oldest first, in pages (for writing all records). */
export function listAllGenerationIds(db: ReadableDB): string[] {
  return prepare<{ id: string }>(db, 'SELECT id FROM generations ORDER BY created_at, id')
    .all()
    .map((row) => row.id);
}

