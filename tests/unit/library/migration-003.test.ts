import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AiPassage } from '../../../src/shared/contract';
import { openLibrary } from '../../../src/main/library';
import { writeLibraryAtVersion } from './helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A library exactly as schema v2 left it, with documents in it. */
function writeV2Library(): string {
  return writeLibraryAtVersion(2, dirs, (db) => {
    db.prepare(`INSERT INTO documents (id, search_rowid, title, body, notes, words, created_at, updated_at) VALUES ('d1', 1, 'Harbour novel', 'It was dark. The sea rose.', 'storms', 6, 1000, 1000)`).run();
    db.prepare(`INSERT INTO documents (id, search_rowid, title, body, words, created_at, updated_at) VALUES ('d2', 2, 'Letters', 'Dear you', 2, 1000, 1500)`).run();
  });
}

const passage: AiPassage = { id: 'p1', from: 13, to: 26, action: 'continue', generationIds: ['g9'], text: 'The sea rose.' };

describe('migration 003: AI-assisted passages inside the document', () => {
  it('v2 documents come through with no passages and keep everything else', () => {
    const library = openLibrary(writeV2Library());
    expect(library.openedFromVersion).toBe(2);
    expect(library.getDocument('d1')).toMatchObject({ title: 'Harbour novel', body: 'It was dark. The sea rose.', notes: 'storms', aiPassages: [] });
    expect(library.getDocument('d2').aiPassages).toEqual([]);
    expect(library.searchDocuments('storms').map((h) => h.document.id)).toEqual(['d1']);
    library.close();
  });

  it('passages stored with a migrated document survive reopening, and other fields leave them alone', () => {
    const dir = writeV2Library();
    let library = openLibrary(dir);
    library.updateDocument('d1', { aiPassages: [passage] });
    library.updateDocument('d1', { body: 'It was dark. The sea rose. Then calm.' });
    library.close();
    library = openLibrary(dir);
    expect(library.getDocument('d1').aiPassages).toEqual([passage]);
    expect(library.getDocument('d2').aiPassages).toEqual([]);
    library.close();
  });

  it('a damaged record reads as no passages instead of failing the document', () => {
    const dir = writeV2Library();
    openLibrary(dir).close();
    const db = new Database(path.join(dir, 'atelier.db'));
    db.prepare(`UPDATE documents SET ai_passages = '{not json' WHERE id = 'd1'`).run();
    db.prepare(`UPDATE documents SET ai_passages = '[{"id":3}]' WHERE id = 'd2'`).run();
    db.close();
    const library = openLibrary(dir);
    expect(library.getDocument('d1').aiPassages).toEqual([]);
    expect(library.getDocument('d2').aiPassages).toEqual([]);
    library.close();
  });
});
