import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { ReadableDB } from './db';
import { storePath } from './file-store';
import * as generationQuery from './generation-query';
import * as generationSearch from './generation-search';
import * as generations from './generations';
import type { Library } from './index';
import { LATEST_VERSION } from './migrations';

/** What reading commands need; the full Library and a read-only reader both provide it. */
export type LibraryReader = Pick<Library, 'dir' | 'getGeneration' | 'findGeneration' | 'listGenerations' | 'searchGenerations' | 'listAncestors' | 'listChildren' | 'resolveAsset' | 'close'>;

/**
 * A read-only view of a library that another process may own (and write) right now: a read-only
 * SQLite connection, no lock, nothing created or swept. Null when the library cannot be read this
 * way (no database yet, or one that needs migrating first: the caller opens it normally then).
 */
export function openLibraryReader(dir: string, options: { nativeBinding?: string } = {}): LibraryReader | null {
  const root = path.resolve(dir);
  const file = path.join(root, 'atelier.db');
  if (!fs.existsSync(file)) return null;
  const raw = new Database(file, { readonly: true, fileMustExist: true, nativeBinding: options.nativeBinding });
  const db = raw as ReadableDB;
  try {
    db.pragma('busy_timeout = 5000');
    if (db.pragma('user_version', { simple: true }) !== LATEST_VERSION) {
      db.close();
      return null;
    }
  } catch (error) {
    db.close();
    throw error;
  }
  const filesDir = path.join(root, 'files');
  return {
    dir: root,
    getGeneration: (id) => generations.getGeneration(db, id),
    findGeneration: (id) => generations.findGeneration(db, id),
    listGenerations: (query = {}) => generationQuery.listGenerations(db, query),
    searchGenerations: (input) => generationSearch.searchGenerations(db, input),
    listAncestors: (id) => generations.listAncestors(db, id),
    listChildren: (id) => generations.listChildren(db, id),
    resolveAsset(assetId) {
      const asset = generations.findAsset(db, assetId);
      if (!asset) return null;
      const found = storePath(filesDir, asset.sha256, asset.ext);
      return found ? { path: found, mime: asset.mime, bytes: asset.bytes } : null;
    },
    close: () => db.close(),
  };
}
