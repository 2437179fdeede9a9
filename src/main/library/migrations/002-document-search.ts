import type { WritableDB } from '../db';

export const version = 2;
export const name = 'search document titles and notes';

/**
 * Writers look documents up by title and by their notes. Bodies are left out on purpose: the
 * editor autosaves the body every second and re-indexing a long manuscript on each save would make
 * autosave expensive. The triggers fire only when title or notes change.
 */
export function up(db: WritableDB): void {
  db.exec(`
    ALTER TABLE documents ADD COLUMN search_rowid INTEGER;
    UPDATE documents SET search_rowid = rowid;
    CREATE UNIQUE INDEX idx_documents_search_rowid ON documents(search_rowid);

    CREATE VIRTUAL TABLE documents_fts USING fts5(title, notes, tokenize = 'unicode61 remove_diacritics 2');
    INSERT INTO documents_fts(rowid, title, notes) SELECT search_rowid, title, notes FROM documents;

    CREATE TRIGGER documents_fts_after_insert AFTER INSERT ON documents BEGIN
      INSERT INTO documents_fts(rowid, title, notes) VALUES (new.search_rowid, new.title, new.notes);
    END;
    CREATE TRIGGER documents_fts_after_update AFTER UPDATE OF title, notes ON documents BEGIN
      UPDATE documents_fts SET title = new.title, notes = new.notes WHERE rowid = new.search_rowid;
    END;
    CREATE TRIGGER documents_fts_after_delete AFTER DELETE ON documents BEGIN
      DELETE FROM documents_fts WHERE rowid = old.search_rowid;
    END;
  `);
}
