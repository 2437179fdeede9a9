import { LibraryQuery as LibraryQuerySchema, type AssetRef, type Generation, type LibraryPage, type LibraryQuery } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import type { GenerationKind } from '../../shared/params';
import { batchDiversityOf, setBatchDiversity, type BatchDiversityColumns } from './batch-diversity';
import { parseJson, prepare, type ReadableDB, type WritableDB } from './db';
import type { StoredFile } from './file-store';
import { recordOf, type GenerationRecordFile } from './records';

interface GenerationRow extends BatchDiversityColumns {
  id: string;
  kind: GenerationKind;
  model: string;
  model_digest: string | null;
  prompt: string;
  negative_prompt: string;
  seed: number | null;
  params: string;
  parent_id: string | null;
  provider: string | null;
  provider_note: string | null;
  timings: string;
  output_text: string | null;
  rating: number;
  favourite: number;
  notes: string;
  created_at: number;
  deleted_at: number | null;
  adherence: number | null;
  adherence_model: string | null;
}

interface AssetRow {
  id: string;
  generation_id: string;
  sha256: string;
  ext: string;
  mime: string;
  bytes: number;
  role: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
}

/** The model name of the items that hold inpainting masks (see src/main/masks.ts). */
export const MASK_MODEL = 'mask';

const GENERATION_COLUMNS = `g.id, g.kind, g.model, g.model_digest, g.prompt, g.negative_prompt, g.seed, g.params, g.parent_id,
  g.provider, g.provider_note, g.timings, g.output_text, g.rating, g.favourite, g.notes, g.created_at, g.deleted_at,
  g.adherence, g.adherence_model, g.batch_diversity, g.batch_diversity_model, g.batch_diversity_count`;

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

function toAssetRef(row: AssetRow): AssetRef {
  return {
    id: row.id,
    sha256: row.sha256,
    mime: row.mime,
    bytes: row.bytes,
    role: row.role,
    width: row.width,
    height: row.height,
    durationMs: row.duration_ms,
  };
}

/** Loads tags and assets for a batch of rows with two queries, whatever the page size. */
function hydrate(db: ReadableDB, rows: GenerationRow[]): Generation[] {
  if (rows.length === 0) return [];
  const ids = JSON.stringify(rows.map((r) => r.id));
  const assets = new Map<string, AssetRef[]>();
  for (const asset of prepare<AssetRow>(
    db,
    `SELECT id, generation_id, sha256, ext, mime, bytes, role, width, height, duration_ms FROM assets
     WHERE generation_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid`,
  ).all(ids)) {
    const list = assets.get(asset.generation_id) ?? [];
    list.push(toAssetRef(asset));
    assets.set(asset.generation_id, list);
  }
  const tags = new Map<string, string[]>();
  for (const tag of prepare<{ generation_id: string; name: string }>(
    db,
    `SELECT gt.generation_id, t.name FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id
     WHERE gt.generation_id IN (SELECT value FROM json_each(?)) ORDER BY t.name COLLATE NOCASE`,
  ).all(ids)) {
    const list = tags.get(tag.generation_id) ?? [];
    list.push(tag.name);
    tags.set(tag.generation_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    model: row.model,
    modelDigest: row.model_digest,
    prompt: row.prompt,
    negativePrompt: row.negative_prompt,
    seed: row.seed,
    params: parseJson<Record<string, unknown>>(row.params, {}),
    parentId: row.parent_id,
    provider: row.provider,
    providerNote: row.provider_note,
    timings: parseJson<Record<string, number>>(row.timings, {}),
    outputText: row.output_text,
    rating: row.rating,
    favourite: row.favourite === 1,
    notes: row.notes,
    tags: tags.get(row.id) ?? [],
    assets: assets.get(row.id) ?? [],
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
    adherence: row.adherence === null || row.adherence_model === null ? null : { score: row.adherence, model: row.adherence_model },
    batchDiversity: batchDiversityOf(row),
  }));
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

type SortKey = 'newest' | 'oldest' | 'rating' | 'adherence';
type CursorValues = [number, string] | [number, number, string];

function encodeCursor(sort: SortKey, row: GenerationRow): string {
  const values: CursorValues =
    sort === 'rating' ? [row.rating, row.created_at, row.id] : sort === 'adherence' ? [row.adherence ?? -1, row.created_at, row.id] : [row.created_at, row.id];
  return Buffer.from(JSON.stringify([sort, ...values])).toString('base64url');
}

function decodeCursor(sort: SortKey, cursor: string): CursorValues {
  const invalid = new StudioError('INVALID_INPUT', 'The library page cursor is not valid for this view. Reload the library from the top.');
  const parsed: unknown = parseJson<unknown>(Buffer.from(cursor, 'base64url').toString('utf8'), null);
  if (!Array.isArray(parsed) || parsed[0] !== sort) throw invalid;
  const values = parsed.slice(1);
  if (sort === 'rating' || sort === 'adherence') {
    const [rating, createdAt, id] = values;
    if (typeof rating !== 'number' || typeof createdAt !== 'number' || typeof id !== 'string') throw invalid;
    return [rating, createdAt, id];
  }
  const [createdAt, id] = values;
  if (typeof createdAt !== 'number' || typeof id !== 'string') throw invalid;
  return [createdAt, id];
}

const ORDER_BY: Record<SortKey, string> = {
  newest: 'g.created_at DESC, g.id DESC',
  oldest: 'g.created_at ASC, g.id ASC',
  rating: 'g.rating DESC, g.created_at DESC, g.id DESC',
  // Unscored items (not indexed yet, or not pictures) come last.
  adherence: 'coalesce(g.adherence, -1) DESC, g.created_at DESC, g.id DESC',
};
const AFTER_CURSOR: Record<SortKey, string> = {
  newest: '(g.created_at, g.id) < (?, ?)',
  oldest: '(g.created_at, g.id) > (?, ?)',
  rating: '(g.rating, g.created_at, g.id) < (?, ?, ?)',
  adherence: '(coalesce(g.adherence, -1), g.created_at, g.id) < (?, ?, ?)',
};

type ParsedQuery = ReturnType<typeof LibraryQuerySchema.parse>;

function parseQuery(input: LibraryQuery): ParsedQuery {
  const parsed = LibraryQuerySchema.safeParse(input);
  if (!parsed.success) throw new StudioError('INVALID_INPUT', `The library query is not valid: ${parsed.error.issues[0]?.message ?? 'unknown problem'}.`);
  return parsed.data;
}

/** The WHERE clause (over `generations g`) and its parameters for a query's filters. */
function queryFilter(query: ParsedQuery): { filter: string; params: unknown[] } {
  const where: string[] = [query.trash ? 'g.deleted_at IS NOT NULL' : 'g.deleted_at IS NULL'];
  const params: unknown[] = [];
  if (query.kind) {
    where.push('g.kind = ?');
    params.push(query.kind);
  }
  if (query.model) {
    where.push('g.model = ?');
    params.push(query.model);
  } else {
    // Masks painted for inpainting are stored as items so a job can name them, but they are inputs,
    // not work: the grid shows them only when asked for (model "mask"); each result carries its mask.
    where.push(`g.model <> '${MASK_MODEL}'`);
  }
  if (query.minRating !== undefined && query.minRating > 0) {
    where.push('g.rating >= ?');
    params.push(query.minRating);
  }
  if (query.favourite !== undefined) {
    where.push('g.favourite = ?');
    params.push(query.favourite ? 1 : 0);
  }
  if (query.tag) {
    where.push(`EXISTS (SELECT 1 FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id WHERE gt.generation_id = g.id AND t.name = ?)`);
    params.push(query.tag.trim());
  }
  if (query.collectionId) {
    where.push('EXISTS (SELECT 1 FROM collection_items ci WHERE ci.collection_id = ? AND ci.generation_id = g.id)');
    params.push(query.collectionId);
  }
  return { filter: where.join(' AND '), params };
}

/**
 * One page of the library with keyset pagination: the cursor carries the sort key of the last
 * row, so page 1000 costs the same as page 1 and rows inserted meanwhile never shift a page.
 * `deleted_at IS NULL` is spelled literally so the planner can use the partial indexes.
 */
export function listGenerations(db: ReadableDB, input: LibraryQuery): LibraryPage {
  const query = parseQuery(input);
  const { filter, params } = queryFilter(query);
  const total = prepare<{ n: number }>(db, `SELECT count(*) AS n FROM generations g WHERE ${filter}`).get(...params)!.n;

  const pageWhere = [filter];
  const pageParams = [...params];
  if (query.cursor) {
    pageWhere.push(AFTER_CURSOR[query.sort]);
    pageParams.push(...decodeCursor(query.sort, query.cursor));
  }
  const rows = prepare<GenerationRow>(
    db,
    `SELECT ${GENERATION_COLUMNS} FROM generations g WHERE ${pageWhere.join(' AND ')} ORDER BY ${ORDER_BY[query.sort]} LIMIT ?`,
  ).all(...pageParams, query.limit + 1);
  const hasMore = rows.length > query.limit;
  const pageRows = hasMore ? rows.slice(0, query.limit) : rows;
  return {
    items: hydrate(db, pageRows),
    nextCursor: hasMore ? encodeCursor(query.sort, pageRows[pageRows.length - 1]!) : null,
    total,
  };
}

/** Every id matching a query's filters, in its sort order, up to `max` (for "select all"). */
export function listGenerationIds(db: ReadableDB, input: LibraryQuery, max = 100_000): { ids: string[]; truncated: boolean } {
  const query = parseQuery(input);
  const { filter, params } = queryFilter(query);
  const rows = prepare<{ id: string }>(db, `SELECT g.id FROM generations g WHERE ${filter} ORDER BY ${ORDER_BY[query.sort]} LIMIT ?`).all(...params, max + 1);
  return { ids: rows.slice(0, max).map((row) => row.id), truncated: rows.length > max };
}

export function readGenerationsByIds(db: ReadableDB, ids: string[]): Generation[] {
  const rows = prepare<GenerationRow>(db, `SELECT ${GENERATION_COLUMNS} FROM generations g WHERE g.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids));
  const byId = new Map(hydrate(db, rows).map((g) => [g.id, g]));
  return ids.flatMap((id) => byId.get(id) ?? []);
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

export interface SearchHit {
  generation: Generation;
  snippet: string;
}

export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

/**
 * Turns anything a person types into a valid FTS5 query: each word becomes a quoted phrase (so
 * quotes, AND/OR/NOT, NEAR, column filters and parentheses are plain text), all must match, and
 * the last word matches as a prefix so results appear while typing.
 */
export function toFtsQuery(text: string): string | null {
  const words = text
    .normalize('NFC')
    .split(/\s+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return null;
  return words.map((w, i) => `"${w.replace(/"/g, '""')}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * The snippet is HTML: text is escaped and matches are wrapped in <mark></mark>, so the renderer
 * may insert it as markup without letting a prompt inject any.
 */
export function toSnippetHtml(raw: string): string {
  return escapeHtml(raw).replaceAll(MARK_OPEN, '<mark>').replaceAll(MARK_CLOSE, '</mark>');
}

export function searchGenerations(db: ReadableDB, input: { query: string; kind?: GenerationKind; limit?: number }): { items: SearchHit[] } {
  const match = toFtsQuery(input.query);
  if (!match) return { items: [] };
  const limit = Math.min(Math.max(Math.trunc(input.limit ?? 60), 1), 500);
  const rows = prepare<GenerationRow & { snippet: string }>(
    db,
    `SELECT ${GENERATION_COLUMNS}, snippet(generations_fts, -1, '${MARK_OPEN}', '${MARK_CLOSE}', '…', 16) AS snippet
     FROM generations_fts f JOIN generations g ON g.search_rowid = f.rowid
     WHERE generations_fts MATCH ? AND g.deleted_at IS NULL AND g.model <> '${MASK_MODEL}' AND (? IS NULL OR g.kind = ?)
     ORDER BY f.rank LIMIT ?`,
  ).all(match, input.kind ?? null, input.kind ?? null, limit);
  const generations = hydrate(db, rows);
  return { items: generations.map((generation, i) => ({ generation, snippet: toSnippetHtml(rows[i]!.snippet) })) };
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
    id: g.id,
    kind: g.kind,
    model: g.model,
    modelDigest: g.modelDigest,
    prompt: g.prompt,
    negativePrompt: g.negativePrompt,
    seed: g.seed,
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
