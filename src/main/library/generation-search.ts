import type { Generation } from '../../shared/contract';
import type { GenerationKind } from '../../shared/params';
import { prepare, type ReadableDB } from './db';
import { GENERATION_COLUMNS, hydrate, MASK_MODEL, type GenerationRow } from './generation-rows';

/** Full-text search over prompts, texts and tags (FTS5), with snippets safe to show as HTML. */

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
