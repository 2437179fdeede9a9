import { AiPassage, type DocumentSummary, type StudioDocument } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import { prepare, type ReadableDB, type WritableDB } from './db';
import { MARK_CLOSE, MARK_OPEN, toFtsQuery, toSnippetHtml } from './generation-search';

interface DocumentRow {
  id: string;
  title: string;
  body: string;
  notes: string;
  ai_passages: string;
  words: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface DocumentVersionSummary {
  id: string;
  documentId: string;
  title: string;
  words: number;
  reason: string;
  createdAt: number;
}

export interface DocumentVersion extends DocumentVersionSummary {
  body: string;
}

const WORD = /[\p{L}\p{N}]+(?:['’\-.][\p{L}\p{N}]+)*/gu;

/**
 * Words as a writer counts them: runs of letters and digits, with inner apostrophes, hyphens and
 * dots kept in the word ("don't", "well-known", "3.14"). Markdown markup is not letters, so it is
 * not counted. A regex, not Intl.Segmenter: it runs on every autosave.
 */
export function countWords(text: string): number {
  let count = 0;
  WORD.lastIndex = 0;
  while (WORD.exec(text) !== null) count++;
  return count;
}

function notFound(id: string): StudioError {
  return new StudioError('NOT_FOUND', `Document ${id} no longer exists. It may have been deleted; check the trash.`);
}

/** The stored passages; a damaged record reads as none rather than failing the document. */
function readAiPassages(json: string): AiPassage[] {
  try {
    const parsed = AiPassage.array().safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

function toDocument(row: DocumentRow): StudioDocument {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    notes: row.notes,
    aiPassages: readAiPassages(row.ai_passages),
    words: row.words,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

export function getDocument(db: ReadableDB, id: string): StudioDocument {
  const row = prepare<DocumentRow>(db, 'SELECT * FROM documents WHERE id = ?').get(id);
  if (!row) throw notFound(id);
  return toDocument(row);
}

export function createDocument(db: WritableDB, id: string, input: { title?: string; body?: string; notes?: string }, now: number): StudioDocument {
  const body = input.body ?? '';
  prepare(
    db,
    `INSERT INTO documents (id, search_rowid, title, body, notes, words, created_at, updated_at)
     VALUES (?, (SELECT coalesce(max(search_rowid), 0) + 1 FROM documents), ?, ?, ?, ?, ?, ?)`,
  ).run(id, input.title ?? 'Untitled', body, input.notes ?? '', countWords(body), now, now);
  return getDocument(db, id);
}

/**
 * One UPDATE of the fields given. Autosave sends the body every second, so this touches only the
 * row itself: the title/notes search index is updated by trigger only when those change.
 */
export function updateDocument(db: WritableDB, id: string, patch: { title?: string; body?: string; notes?: string; aiPassages?: AiPassage[] }, now: number): StudioDocument {
  const sets: string[] = ['updated_at = @now'];
  if (patch.title !== undefined) sets.push('title = @title');
  if (patch.body !== undefined) sets.push('body = @body', 'words = @words');
  if (patch.notes !== undefined) sets.push('notes = @notes');
  if (patch.aiPassages !== undefined) sets.push('ai_passages = @aiPassages');
  const result = prepare(db, `UPDATE documents SET ${sets.join(', ')} WHERE id = @id`).run({
    id,
    now,
    title: patch.title ?? null,
    body: patch.body ?? null,
    words: patch.body !== undefined ? countWords(patch.body) : null,
    notes: patch.notes ?? null,
    aiPassages: patch.aiPassages !== undefined ? JSON.stringify(patch.aiPassages) : null,
  });
  if (result.changes === 0) throw notFound(id);
  return getDocument(db, id);
}

export function listDocuments(db: ReadableDB, options: { trash?: boolean } = {}): DocumentSummary[] {
  const where = options.trash ? 'deleted_at IS NOT NULL' : 'deleted_at IS NULL';
  return prepare<DocumentSummary>(
    db,
    `SELECT id, title, words, updated_at AS updatedAt, deleted_at AS deletedAt FROM documents WHERE ${where} ORDER BY updated_at DESC, id DESC`,
  ).all();
}

export function softDeleteDocument(db: WritableDB, id: string, now: number): void {
  if (prepare(db, 'UPDATE documents SET deleted_at = coalesce(deleted_at, ?) WHERE id = ?').run(now, id).changes === 0) throw notFound(id);
}

export function restoreDocument(db: WritableDB, id: string): StudioDocument {
  if (prepare(db, 'UPDATE documents SET deleted_at = NULL WHERE id = ?').run(id).changes === 0) throw notFound(id);
  return getDocument(db, id);
}

/** Deletes trashed documents and their versions for good. */
/** Empties the documents' trash, or only what went into it before `olderThan` (the 30-day rule). */
export function purgeDeletedDocuments(db: WritableDB, olderThan?: number): number {
  if (olderThan === undefined) return prepare(db, 'DELETE FROM documents WHERE deleted_at IS NOT NULL').run().changes;
  return prepare(db, 'DELETE FROM documents WHERE deleted_at IS NOT NULL AND deleted_at < ?').run(olderThan).changes;
}

/** Saves the current title and body as a version, e.g. before an AI rewrite or on demand. */
export function snapshotDocument(db: WritableDB, versionId: string, documentId: string, reason: string, now: number): DocumentVersionSummary {
  const result = prepare(
    db,
    `INSERT INTO document_versions (id, document_id, title, body, words, reason, created_at)
     SELECT ?, id, title, body, words, ?, ? FROM documents WHERE id = ?`,
  ).run(versionId, reason, now, documentId);
  if (result.changes === 0) throw notFound(documentId);
  return { id: versionId, documentId, title: getDocument(db, documentId).title, words: getDocument(db, documentId).words, reason, createdAt: now };
}

/** Versions of a document, newest first, without their bodies. */
export function listDocumentVersions(db: ReadableDB, documentId: string): DocumentVersionSummary[] {
  return prepare<DocumentVersionSummary>(
    db,
    `SELECT id, document_id AS documentId, title, words, reason, created_at AS createdAt
     FROM document_versions WHERE document_id = ? ORDER BY created_at DESC, id DESC`,
  ).all(documentId);
}

export function getDocumentVersion(db: ReadableDB, versionId: string): DocumentVersion {
  const row = prepare<DocumentVersion>(
    db,
    `SELECT id, document_id AS documentId, title, body, words, reason, created_at AS createdAt FROM document_versions WHERE id = ?`,
  ).get(versionId);
  if (!row) throw new StudioError('NOT_FOUND', `That version (${versionId}) no longer exists; reopen the version list.`);
  return row;
}

/** Finds live documents by title or notes (bodies are not indexed; see migration 002). */
/** The words of a query as they are looked for in text (case folded, at least one letter or digit). */
function queryWords(query: string): string[] {
  return query
    .normalize('NFC')
    .toLowerCase()
    .split(/\s+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
}

/** About 140 characters of `text` around the first word found, each word found marked (raw snippet form). */
function bodySnippet(text: string, words: string[]): string {
  const lower = text.toLowerCase();
  const first = Math.min(...words.map((w) => lower.indexOf(w)).filter((i) => i >= 0));
  const start = Math.max(0, first - 60);
  const end = Math.min(text.length, first + 80);
  const window = text.slice(start, end).replace(/\s+/g, ' ');
  const pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'giu');
  return `${start > 0 ? '…' : ''}${window.replace(pattern, (hit) => `${MARK_OPEN}${hit}${MARK_CLOSE}`)}${end < text.length ? '…' : ''}`;
}

/**
 * Finds documents by title and notes (the full-text index, best matches first) and by their text:
 * every word must appear, as typed or as the start of a longer word; body matches come after the
 * title/notes ones, most recently edited first. The body is searched at query time instead of being
 * indexed, so autosave never re-indexes a manuscript (see migration 002).
 */
export function searchDocuments(db: ReadableDB, query: string, limit = 50): { document: DocumentSummary; snippet: string }[] {
  const match = toFtsQuery(query);
  const words = queryWords(query);
  if (!match || words.length === 0) return [];
  const hits = prepare<DocumentSummary & { snippet: string }>(
    db,
    `SELECT d.id, d.title, d.words, d.updated_at AS updatedAt, d.deleted_at AS deletedAt,
       snippet(documents_fts, -1, '\u0002', '\u0003', '…', 16) AS snippet
     FROM documents_fts f JOIN documents d ON d.search_rowid = f.rowid
     WHERE documents_fts MATCH ? AND d.deleted_at IS NULL ORDER BY f.rank LIMIT ?`,
  ).all(match, limit);
  const found = new Set(hits.map((h) => h.id));
  const results = hits.map(({ snippet, ...document }) => ({ document, snippet: toSnippetHtml(snippet) }));
  // instr() over lower() folds ASCII only; the words are folded the same way, so ASCII text matches
  // in any case and other scripts match as typed.
  const contains = words.map(() => 'instr(lower(body), ?) > 0').join(' AND ');
  const bodyHits = prepare<DocumentSummary & { body: string }>(
    db,
    `SELECT id, title, words, updated_at AS updatedAt, deleted_at AS deletedAt, body FROM documents
     WHERE deleted_at IS NULL AND ${contains} ORDER BY updated_at DESC LIMIT ?`,
  ).all(...words, limit);
  for (const { body, ...document } of bodyHits) {
    if (results.length >= limit) break;
    if (found.has(document.id)) continue;
    results.push({ document, snippet: toSnippetHtml(bodySnippet(body, words)) });
  }
  return results;
}
