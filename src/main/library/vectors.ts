import { getLoadablePath } from 'sqlite-vec';
import type { GenerationKind } from '../../shared/params';
import { StudioError } from '../../shared/errors';
import { prepare, type ReadableDB, type WritableDB } from './db';

/**
 * Vectors for search by meaning (table `embeddings`, migration 004). Each row holds a normalised
 * float32 vector and its sign bits. A search ranks every row of one model by Hamming distance on
 * the bits (sqlite-vec's vec_distance_hamming, SIMD over 64 bytes per 512-d vector) and re-ranks
 * the best `RERANK_FACTOR × k` by exact cosine: about 3× faster than exact cosine over every float
 * vector, and the bench (bench/vectors.ts) checks its recall against exact search.
 */

export const RERANK_FACTOR = 20;
const MIN_CANDIDATES = 200;

const vecLoaded = new WeakSet<ReadableDB>();

/** Where sqlite-vec's loadable extension is: unpacked beside the asar in a packaged app. */
export function vectorExtensionPath(): string {
  return getLoadablePath().replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

/** Loads sqlite-vec into this connection once; a library works without it until a search needs it. */
function withVectorFunctions(db: ReadableDB): ReadableDB {
  if (vecLoaded.has(db)) return db;
  try {
    db.loadExtension(vectorExtensionPath());
  } catch (error) {
    throw new StudioError(
      'INTERNAL',
      `Search by meaning needs the sqlite-vec extension, which could not be loaded on this ${process.platform}-${process.arch} machine (${error instanceof Error ? error.message : String(error)}). Search by words still works; reinstall Atelier to get it back.`,
    );
  }
  vecLoaded.add(db);
  return db;
}

/** Sign bits, one per dimension, least significant bit first (as vec_quantize_binary packs them). */
export function signBits(vector: Float32Array): Buffer {
  const bits = Buffer.alloc((vector.length + 7) >> 3);
  for (let i = 0; i < vector.length; i++) if (vector[i]! > 0) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

export function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function fromBlob(blob: Buffer): Float32Array {
  const copy = new Float32Array(blob.length / 4);
  Buffer.from(copy.buffer).set(blob);
  return copy;
}

export interface NewEmbedding {
  generationId: string;
  vector: Float32Array;
}

/**
 * Stores vectors for `model`. A generation that already has one for this model keeps it (the
 * unique key (model, generation_id) means an item is indexed once, whatever was interrupted).
 * Returns how many rows were added.
 */
export function insertEmbeddings(db: WritableDB, model: string, rows: NewEmbedding[], now: number): number {
  const insert = prepare(
    db,
    `INSERT INTO embeddings (model, generation_id, dim, vector, bits, created_at)
     SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM generations WHERE id = ?)
     ON CONFLICT (model, generation_id) DO NOTHING`,
  );
  let added = 0;
  for (const row of rows) added += insert.run(model, row.generationId, row.vector.length, toBlob(row.vector), signBits(row.vector), now, row.generationId).changes;
  return added;
}

export function setAdherence(db: WritableDB, generationId: string, score: number, model: string): void {
  prepare(db, 'UPDATE generations SET adherence = ?, adherence_model = ? WHERE id = ?').run(Math.min(100, Math.max(0, score)), model, generationId);
}

export function findEmbedding(db: ReadableDB, model: string, generationId: string): Float32Array | null {
  const row = prepare<{ vector: Buffer }>(db, 'SELECT vector FROM embeddings WHERE model = ? AND generation_id = ?').get(model, generationId);
  return row ? fromBlob(row.vector) : null;
}

/** Every vector of `model` for these generations (those without one are left out). */
export function listEmbeddings(db: ReadableDB, model: string, ids: string[]): Map<string, Float32Array> {
  const rows = prepare<{ generation_id: string; vector: Buffer }>(
    db,
    'SELECT generation_id, vector FROM embeddings WHERE model = ? AND generation_id IN (SELECT value FROM json_each(?))',
  ).all(model, JSON.stringify(ids));
  return new Map(rows.map((r) => [r.generation_id, fromBlob(r.vector)]));
}

export interface UnindexedItem {
  id: string;
  prompt: string;
  outputText: string | null;
  /** The picture to embed (image generations). */
  imageAssetId: string | null;
  /** The audio to embed (music generations). */
  audioAssetId: string | null;
}

/**
 * Live generations of `kind` without a vector for `model`, oldest first (so an interrupted index
 * resumes where it stopped). Pictures need an image asset, music an audio asset; masks are not
 * generations to find.
 */
export function listUnindexed(db: ReadableDB, model: string, kind: GenerationKind, limit: number, options: { onlyId?: string; exclude?: string[] } = {}): UnindexedItem[] {
  const onlyId = options.onlyId ?? null;
  return prepare<{ id: string; prompt: string; output_text: string | null; asset_id: string | null; audio_id: string | null }>(
    db,
    `SELECT g.id, g.prompt, g.output_text,
       (SELECT a.id FROM assets a WHERE a.generation_id = g.id AND a.role = 'image' ORDER BY a.created_at, a.rowid LIMIT 1) AS asset_id,
       (SELECT a.id FROM assets a WHERE a.generation_id = g.id AND a.role = 'audio' ORDER BY a.created_at, a.rowid LIMIT 1) AS audio_id
     FROM generations g
     WHERE g.deleted_at IS NULL AND g.kind = ? AND (? IS NULL OR g.id = ?) AND g.id NOT IN (SELECT value FROM json_each(?))
       AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model = ? AND e.generation_id = g.id)
       AND (g.kind <> 'image' OR EXISTS (SELECT 1 FROM assets a WHERE a.generation_id = g.id AND a.role = 'image'))
       AND (g.kind <> 'text' OR coalesce(g.output_text, g.prompt) <> '')
       AND (g.kind <> 'music' OR EXISTS (SELECT 1 FROM assets a WHERE a.generation_id = g.id AND a.role = 'audio'))
     ORDER BY g.created_at, g.id LIMIT ?`,
  )
    .all(kind, onlyId, onlyId, JSON.stringify(options.exclude ?? []), model, limit)
    .map((r) => ({ id: r.id, prompt: r.prompt, outputText: r.output_text, imageAssetId: r.asset_id, audioAssetId: r.audio_id }));
}

/**
 * Live pictures or music with a vector for `model` and a prompt, but no prompt adherence by that
 * model: indexed before music was scored, or scored by the model chosen before. Oldest first.
 */
export function listUnscored(db: ReadableDB, model: string, kind: 'image' | 'music', limit: number, exclude: string[]): { id: string; prompt: string; vector: Float32Array }[] {
  return prepare<{ id: string; prompt: string; vector: Buffer }>(
    db,
    `SELECT g.id, g.prompt, e.vector FROM generations g JOIN embeddings e ON e.model = ? AND e.generation_id = g.id
     WHERE g.deleted_at IS NULL AND g.kind = ? AND trim(g.prompt) <> '' AND (g.adherence IS NULL OR g.adherence_model IS NOT ?)
       AND g.id NOT IN (SELECT value FROM json_each(?))
     ORDER BY g.created_at, g.id LIMIT ?`,
  )
    .all(model, kind, model, JSON.stringify(exclude), limit)
    .map((r) => ({ id: r.id, prompt: r.prompt, vector: fromBlob(r.vector) }));
}

/** How many live generations of `kind` could be indexed, and how many have a vector for `model`. */
export function countIndexed(db: ReadableDB, model: string, kind: GenerationKind): { indexed: number; total: number } {
  const row = prepare<{ total: number; indexed: number }>(
    db,
    `SELECT count(*) AS total, count(e.generation_id) AS indexed
     FROM generations g LEFT JOIN embeddings e ON e.model = ? AND e.generation_id = g.id
     WHERE g.deleted_at IS NULL AND g.kind = ?
       AND (g.kind <> 'image' OR EXISTS (SELECT 1 FROM assets a WHERE a.generation_id = g.id AND a.role = 'image'))
       AND (g.kind <> 'text' OR coalesce(g.output_text, g.prompt) <> '')
       AND (g.kind <> 'music' OR EXISTS (SELECT 1 FROM assets a WHERE a.generation_id = g.id AND a.role = 'audio'))`,
  ).get(model, kind)!;
  return { indexed: row.indexed, total: row.total };
}

/** Removes the vectors of every model but `keep` for generations of `kind` (the model was changed). */
export function deleteOtherModels(db: WritableDB, kind: GenerationKind, keep: string): number {
  return prepare(db, `DELETE FROM embeddings WHERE model <> ? AND generation_id IN (SELECT id FROM generations WHERE kind = ?)`).run(keep, kind).changes;
}

export interface VectorHit {
  id: string;
  /** Cosine similarity, −1…1. */
  similarity: number;
}

/**
 * The `k` live generations of `model` nearest to `query` (normalised), best first: Hamming distance
 * on sign bits picks candidates, exact cosine orders them. `exclude` leaves one item out (itself,
 * for "more like this").
 */
export function searchByVector(db: ReadableDB, model: string, query: Float32Array, options: { k: number; exclude?: string; candidates?: number }): VectorHit[] {
  const candidates = options.candidates ?? Math.max(MIN_CANDIDATES, options.k * RERANK_FACTOR);
  const rows = prepare<{ id: string; distance: number }>(
    withVectorFunctions(db),
    `WITH candidates AS (
       SELECT b.id FROM embeddings b INDEXED BY idx_embeddings_bits
       WHERE b.model = ? AND b.dim = ?
       ORDER BY vec_distance_hamming(vec_bit(b.bits), vec_bit(?)) LIMIT ?
     )
     SELECT e.generation_id AS id, vec_distance_cosine(e.vector, ?) AS distance
     FROM candidates c JOIN embeddings e ON e.id = c.id JOIN generations g ON g.id = e.generation_id
     WHERE g.deleted_at IS NULL AND e.generation_id <> ?
     ORDER BY distance, e.generation_id LIMIT ?`,
  ).all(model, query.length, signBits(query), candidates, toBlob(query), options.exclude ?? '', options.k);
  return rows.map((r) => ({ id: r.id, similarity: 1 - r.distance }));
}

/** Exact search over every vector of `model` (for the bench's recall, and small libraries). */
export function searchByVectorExact(db: ReadableDB, model: string, query: Float32Array, k: number): VectorHit[] {
  return prepare<{ id: string; distance: number }>(
    withVectorFunctions(db),
    `SELECT generation_id AS id, vec_distance_cosine(vector, ?) AS distance FROM embeddings NOT INDEXED WHERE model = ? AND dim = ? ORDER BY distance, generation_id LIMIT ?`,
  )
    .all(toBlob(query), model, query.length, k)
    .map((r) => ({ id: r.id, similarity: 1 - r.distance }));
}
