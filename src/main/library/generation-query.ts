import { LibraryQuery as LibraryQuerySchema, type LibraryPage, type LibraryQuery } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import { parseJson, prepare, type ReadableDB } from './db';
import { GENERATION_COLUMNS, hydrate, MASK_MODEL, type GenerationRow } from './generation-rows';

/** The library grid's queries: filters, sort orders and keyset pages. */

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
