import type { WritableDB } from '../db';

export const version = 5;
export const name = 'embedding models in the models table, and batch diversity on generations';

/**
 * Embedding models (CLIP, sentence embedders, CLAP) are installed like any model, but they generate
 * nothing: their kind is 'embedding', so no generation picker lists them. SQLite cannot change a
 * CHECK constraint in place, so the models table is rebuilt with the wider one (rows copied as
 * they are; nothing else references the table).
 *
 * `batch_diversity` is the mean pairwise cosine distance (0–2; 0 = all alike) of the vectors of the
 * batch the item was made in, by `batch_diversity_model`, over `batch_diversity_count` items. It is
 * stored on each item of the batch because it belongs to each item's record and exports.
 */
export function up(db: WritableDB): void {
  db.exec(`
    CREATE TABLE models_new (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('text', 'image', 'music', 'embedding')),
      name TEXT NOT NULL,
      path TEXT NOT NULL,
      bytes INTEGER NOT NULL DEFAULT 0,
      source TEXT NOT NULL,
      digest TEXT,
      installed_at INTEGER NOT NULL
    );
    INSERT INTO models_new (id, kind, name, path, bytes, source, digest, installed_at)
      SELECT id, kind, name, path, bytes, source, digest, installed_at FROM models;
    DROP TABLE models;
    ALTER TABLE models_new RENAME TO models;

    ALTER TABLE generations ADD COLUMN batch_diversity REAL CHECK (batch_diversity IS NULL OR batch_diversity BETWEEN 0 AND 2);
    ALTER TABLE generations ADD COLUMN batch_diversity_model TEXT;
    ALTER TABLE generations ADD COLUMN batch_diversity_count INTEGER CHECK (batch_diversity_count IS NULL OR batch_diversity_count >= 2);
  `);
}
