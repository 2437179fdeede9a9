import type { WritableDB } from '../db';

export const version = 4;
export const name = 'vectors for search by meaning, and prompt-adherence scores';

/**
 * One row per (embedding model, generation). Vectors are L2-normalised float32 (`vector`) plus
 * their sign bits (`bits`, one bit per dimension, as sqlite-vec's vec_quantize_binary packs them):
 * a search ranks every row by Hamming distance on the bits and re-ranks the best by exact cosine.
 *
 * A plain table rather than a vec0 virtual table: the schema must open, check, back up, restore and
 * rebuild without the extension (the read-only CLI reader, the recovery window, an older build), so
 * sqlite-vec is only needed by the query that ranks, and is loaded then. Vectors are tagged with the
 * model: changing the model leaves the other model's rows aside and indexes afresh. The unique key
 * makes "indexed exactly once" a property of the table, whatever a crash interrupts.
 *
 * `adherence` is CLIPScore (100 × max(cos(image, prompt), 0)) by `adherence_model`; it lives on
 * the generation because it is sortable and belongs to its record.
 */
export function up(db: WritableDB): void {
  db.exec(`
    CREATE TABLE embeddings (
      id INTEGER PRIMARY KEY,
      model TEXT NOT NULL,
      generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
      dim INTEGER NOT NULL CHECK (dim > 0),
      vector BLOB NOT NULL CHECK (length(vector) = dim * 4),
      bits BLOB NOT NULL CHECK (length(bits) = (dim + 7) / 8),
      created_at INTEGER NOT NULL,
      UNIQUE (model, generation_id)
    );
    CREATE INDEX idx_embeddings_generation ON embeddings(generation_id);
    -- Covering index for the first pass: ranking by Hamming distance reads only these small
    -- entries (about 100 bytes each), never the 2 KB float vectors beside them.
    CREATE INDEX idx_embeddings_bits ON embeddings(model, dim, bits);

    ALTER TABLE generations ADD COLUMN adherence REAL CHECK (adherence IS NULL OR adherence BETWEEN 0 AND 100);
    ALTER TABLE generations ADD COLUMN adherence_model TEXT;
    CREATE INDEX idx_generations_live_adherence ON generations(adherence, created_at, id) WHERE deleted_at IS NULL AND adherence IS NOT NULL;
  `);
}
