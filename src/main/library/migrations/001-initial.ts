import type { WritableDB } from '../db';

export const version = 1;
export const name = 'initial schema';

/**
 * Timestamps are milliseconds since the epoch. JSON columns hold text checked with json_valid so a
 * bad write fails loudly instead of poisoning reads later.
 *
 * `search_rowid` exists because generations are keyed by text ids: the FTS table needs a stable
 * integer key, and the implicit rowid of a table without INTEGER PRIMARY KEY may be renumbered by
 * VACUUM.
 */
export function up(db: WritableDB): void {
  db.exec(`
    CREATE TABLE generations (
      id TEXT PRIMARY KEY,
      search_rowid INTEGER NOT NULL UNIQUE,
      kind TEXT NOT NULL CHECK (kind IN ('text', 'image', 'music')),
      model TEXT NOT NULL,
      model_digest TEXT,
      prompt TEXT NOT NULL DEFAULT '',
      negative_prompt TEXT NOT NULL DEFAULT '',
      seed INTEGER,
      params TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
      parent_id TEXT REFERENCES generations(id) ON DELETE SET NULL,
      provider TEXT,
      provider_note TEXT,
      timings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(timings)),
      output_text TEXT,
      rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
      favourite INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1)),
      notes TEXT NOT NULL DEFAULT '',
      created_at INTEGER NOT NULL,
      deleted_at INTEGER
    );
    -- Keyset pagination: each sort order walks one index, live rows and trash separately.
    CREATE INDEX idx_generations_live_created ON generations(created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_generations_live_rating ON generations(rating, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_generations_live_kind ON generations(kind, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_generations_live_kind_rating ON generations(kind, rating, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_generations_live_model ON generations(model, created_at, id) WHERE deleted_at IS NULL;
    CREATE INDEX idx_generations_trash_created ON generations(created_at, id) WHERE deleted_at IS NOT NULL;
    CREATE INDEX idx_generations_parent ON generations(parent_id) WHERE parent_id IS NOT NULL;

    CREATE TABLE assets (
      id TEXT PRIMARY KEY,
      generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
      sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
      ext TEXT NOT NULL,
      mime TEXT NOT NULL,
      bytes INTEGER NOT NULL,
      role TEXT NOT NULL,
      width INTEGER,
      height INTEGER,
      duration_ms INTEGER,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX idx_assets_generation ON assets(generation_id);
    CREATE INDEX idx_assets_file ON assets(sha256, ext);

    CREATE TABLE tags (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE
    );
    CREATE TABLE generation_tags (
      generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
      tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
      PRIMARY KEY (tag_id, generation_id)
    ) WITHOUT ROWID;
    CREATE INDEX idx_generation_tags_generation ON generation_tags(generation_id);

    CREATE TABLE collections (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE collection_items (
      collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
      generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
      position INTEGER NOT NULL DEFAULT 0,
      added_at INTEGER NOT NULL,
      PRIMARY KEY (collection_id, generation_id)
    ) WITHOUT ROWID;
    CREATE INDEX idx_collection_items_generation ON collection_items(generation_id);

    CREATE TABLE documents (
      id TEXT PRIMARY KEY,
      title TEXT NOT NULL DEFAULT 'Untitled',
      body TEXT NOT NULL DEFAULT '',
      notes TEXT NOT NULL DEFAULT '',
      words INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      deleted_at INTEGER
    );
    CREATE INDEX idx_documents_updated ON documents(updated_at);
    CREATE TABLE document_versions (
      id TEXT PRIMARY KEY,
      document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
      title TEXT NOT NULL,
      body TEXT NOT NULL,
      words INTEGER NOT NULL,
      reason TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX idx_document_versions_document ON document_versions(document_id, created_at);

    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('text', 'image', 'music')),
      params TEXT NOT NULL CHECK (json_valid(params)),
      parent_id TEXT,
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted', 'paused')),
      priority INTEGER NOT NULL DEFAULT 0,
      progress REAL NOT NULL DEFAULT 0,
      step INTEGER NOT NULL DEFAULT 0,
      total_steps INTEGER NOT NULL DEFAULT 0,
      error TEXT CHECK (error IS NULL OR json_valid(error)),
      generation_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(generation_ids)),
      created_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER
    );
    CREATE INDEX idx_jobs_queue ON jobs(state, priority DESC, created_at, id);
    CREATE INDEX idx_jobs_created ON jobs(created_at);

    CREATE TABLE models (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('text', 'image', 'music')),
      name TEXT NOT NULL,
      path TEXT NOT NULL,
      bytes INTEGER NOT NULL DEFAULT 0,
      source TEXT NOT NULL,
      digest TEXT,
      installed_at INTEGER NOT NULL
    );

    CREATE TABLE settings (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL CHECK (json_valid(value))
    );

    CREATE VIRTUAL TABLE generations_fts USING fts5(
      prompt, negative_prompt, output_text, notes, tags,
      tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER generations_fts_after_insert AFTER INSERT ON generations BEGIN
      INSERT INTO generations_fts(rowid, prompt, negative_prompt, output_text, notes, tags)
      VALUES (new.search_rowid, new.prompt, new.negative_prompt, coalesce(new.output_text, ''), new.notes, '');
    END;
    CREATE TRIGGER generations_fts_after_update AFTER UPDATE OF prompt, negative_prompt, output_text, notes ON generations BEGIN
      UPDATE generations_fts
      SET prompt = new.prompt, negative_prompt = new.negative_prompt,
          output_text = coalesce(new.output_text, ''), notes = new.notes
      WHERE rowid = new.search_rowid;
    END;
    CREATE TRIGGER generations_fts_after_delete AFTER DELETE ON generations BEGIN
      DELETE FROM generations_fts WHERE rowid = old.search_rowid;
    END;
    CREATE TRIGGER generation_tags_fts_after_insert AFTER INSERT ON generation_tags BEGIN
      UPDATE generations_fts
      SET tags = (SELECT coalesce(group_concat(t.name, ' '), '') FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id WHERE gt.generation_id = new.generation_id)
      WHERE rowid = (SELECT search_rowid FROM generations WHERE id = new.generation_id);
    END;
    CREATE TRIGGER generation_tags_fts_after_delete AFTER DELETE ON generation_tags BEGIN
      UPDATE generations_fts
      SET tags = (SELECT coalesce(group_concat(t.name, ' '), '') FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id WHERE gt.generation_id = old.generation_id)
      WHERE rowid = (SELECT search_rowid FROM generations WHERE id = old.generation_id);
    END;
  `);
}
