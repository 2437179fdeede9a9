import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';

/**
 * The library's one connection, branded so that every database function says in its signature
 * whether it only reads (`ReadableDB`) or also writes (`WritableDB`). A writable handle can be
 * passed where a readable one is asked for, never the other way round.
 */
export type ReadableDB = Database.Database & { readonly __libraryAccess: 'read' | 'write' };
export type WritableDB = Database.Database & { readonly __libraryAccess: 'write' };

export function asWritable(db: Database.Database): WritableDB {
  return db as WritableDB;
}

const statementCache = new WeakMap<Database.Database, Map<string, Statement>>();

/** Prepared statements are cached per connection: autosave and paging run the same SQL often. */
export function prepare<R = unknown>(db: ReadableDB, sql: string): Statement<unknown[], R> {
  let cache = statementCache.get(db);
  if (!cache) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement as Statement<unknown[], R>;
}

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
