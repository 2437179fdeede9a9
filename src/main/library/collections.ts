import { StudioError } from '../../shared/errors';
import { prepare, type ReadableDB, type WritableDB } from './db';

export interface Collection {
  id: string;
  name: string;
  size: number;
  createdAt: number;
}

export function createCollection(db: WritableDB, id: string, name: string, now: number): Collection {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new StudioError('INVALID_INPUT', 'A collection name has 1 to 200 characters.');
  prepare(db, 'INSERT INTO collections (id, name, created_at) VALUES (?, ?, ?)').run(id, trimmed, now);
  return { id, name: trimmed, size: 0, createdAt: now };
}

export function listCollections(db: ReadableDB): Collection[] {
  return prepare<Collection>(
    db,
    `SELECT c.id, c.name, c.created_at AS createdAt, (SELECT count(*) FROM collection_items i WHERE i.collection_id = c.id) AS size
     FROM collections c ORDER BY c.name COLLATE NOCASE, c.id`,
  ).all();
}

/** Generation ids in a collection, in the order the user arranged them. */
export function listCollectionItems(db: ReadableDB, collectionId: string): string[] {
  return prepare<{ generation_id: string }>(db, 'SELECT generation_id FROM collection_items WHERE collection_id = ? ORDER BY position, added_at')
    .all(collectionId)
    .map((r) => r.generation_id);
}

export function addToCollection(db: WritableDB, collectionId: string, generationIds: string[], now: number): number {
  return db.transaction(() => {
    if (!prepare(db, 'SELECT 1 FROM collections WHERE id = ?').get(collectionId)) {
      throw new StudioError('NOT_FOUND', 'That collection no longer exists; refresh the library.');
    }
    let next = prepare<{ n: number }>(db, 'SELECT coalesce(max(position), -1) + 1 AS n FROM collection_items WHERE collection_id = ?').get(collectionId)!.n;
    let added = 0;
    for (const id of generationIds) {
      if (!prepare(db, 'SELECT 1 FROM generations WHERE id = ?').get(id)) continue;
      added += prepare(db, 'INSERT OR IGNORE INTO collection_items (collection_id, generation_id, position, added_at) VALUES (?, ?, ?, ?)').run(collectionId, id, next++, now).changes;
    }
    return added;
  })();
}

export function removeFromCollection(db: WritableDB, collectionId: string, generationIds: string[]): number {
  return prepare(db, 'DELETE FROM collection_items WHERE collection_id = ? AND generation_id IN (SELECT value FROM json_each(?))').run(collectionId, JSON.stringify(generationIds)).changes;
}

export function deleteCollection(db: WritableDB, collectionId: string): boolean {
  return prepare(db, 'DELETE FROM collections WHERE id = ?').run(collectionId).changes > 0;
}
