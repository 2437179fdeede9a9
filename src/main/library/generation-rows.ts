import type { AssetRef, Generation } from '../../shared/contract';
import type { GenerationKind } from '../../shared/params';
import { batchDiversityOf, type BatchDiversityColumns } from './batch-diversity';
import { parseJson, prepare, type ReadableDB } from './db';

/** How a generation is read from the database: its row, its columns and the step that adds tags and assets. */

export interface GenerationRow extends BatchDiversityColumns {
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

/** An asset row as hydrate selects it: an AssetRef (columns aliased) and its generation. */
interface AssetRow extends AssetRef {
  generationId: string;
}

/** The model name of the items that hold inpainting masks (see src/main/masks.ts). */
export const MASK_MODEL = 'mask';

export const GENERATION_COLUMNS = `g.id, g.kind, g.model, g.model_digest, g.prompt, g.negative_prompt, g.seed, g.params, g.parent_id,
  g.provider, g.provider_note, g.timings, g.output_text, g.rating, g.favourite, g.notes, g.created_at, g.deleted_at,
  g.adherence, g.adherence_model, g.batch_diversity, g.batch_diversity_model, g.batch_diversity_count`;

/** Loads tags and assets for a batch of rows with two queries, whatever the page size. */
export function hydrate(db: ReadableDB, rows: GenerationRow[]): Generation[] {
  if (rows.length === 0) return [];
  const ids = JSON.stringify(rows.map((r) => r.id));
  const assets = new Map<string, AssetRef[]>();
  for (const asset of prepare<AssetRow>(
    db,
    `SELECT generation_id AS generationId, id, sha256, mime, bytes, role, width, height, duration_ms AS durationMs FROM assets
     WHERE generation_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, rowid`,
  ).all(ids)) {
    const { generationId, ...ref } = asset;
    const list = assets.get(generationId) ?? [];
    list.push(ref);
    assets.set(generationId, list);
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

export function readGenerationsByIds(db: ReadableDB, ids: string[]): Generation[] {
  const rows = prepare<GenerationRow>(db, `SELECT ${GENERATION_COLUMNS} FROM generations g WHERE g.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids));
  const byId = new Map(hydrate(db, rows).map((g) => [g.id, g]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
