import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../shared/errors';
import { LATEST_VERSION } from './migrations';

export interface RestoreResult {
  /** user_version of the restored database (opening the library migrates it if older). */
  version: number;
  /** Where the database that was replaced now lives, if there was one. */
  previousCopy: string | null;
}

function fsyncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Checks a backup before it may replace anything: readable, quick_check ok, a schema we know. */
export function validateBackup(backupFile: string, nativeBinding?: string): number {
  let db: Database.Database | null = null;
  try {
    db = new Database(backupFile, { readonly: true, fileMustExist: true, nativeBinding });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`quick_check reported: ${String(check)}`);
    const version = db.pragma('user_version', { simple: true });
    if (typeof version !== 'number' || version < 1) throw new Error('it is not an Atelier library (no schema version)');
    if (version > LATEST_VERSION) {
      throw new StudioError('DB_NEWER_THAN_APP', `That backup was made by a newer Atelier (schema v${version}; this version knows up to v${LATEST_VERSION}). Update Atelier to restore it.`);
    }
    if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'generations'`).get()) throw new Error('it has no generations table');
    return version;
  } catch (error) {
    if (error instanceof StudioError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new StudioError('DB_CORRUPT', `The backup ${backupFile} cannot be restored (${detail}). Choose another backup; your current library was not changed.`);
  } finally {
    db?.close();
  }
}

/**
 * Replaces `dir/atelier.db` with a validated backup. The library must be closed. The current
 * database is first checkpointed (so no committed data hides in its WAL) and copied to
 * backups/atelier-before-restore-<time>.db; the backup is copied beside the target, fsynced and
 * renamed over it, so at every instant atelier.db is either the old or the new database.
 */
export function restoreFrom(backupFile: string, dir: string, options: { nativeBinding?: string; now?: () => number } = {}): RestoreResult {
  const version = validateBackup(backupFile, options.nativeBinding);
  const target = path.join(dir, 'atelier.db');
  const now = (options.now ?? Date.now)();
  fs.mkdirSync(dir, { recursive: true });
  let previousCopy: string | null = null;
  if (fs.existsSync(target)) {
    const current = new Database(target, { nativeBinding: options.nativeBinding });
    try {
      current.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      current.close();
    }
    const backups = path.join(dir, 'backups');
    fs.mkdirSync(backups, { recursive: true });
    previousCopy = path.join(backups, `atelier-before-restore-${new Date(now).toISOString().replace(/[:.]/g, '-')}.db`);
    fs.copyFileSync(target, previousCopy);
  }
  const staging = `${target}.restoring`;
  fs.copyFileSync(backupFile, staging);
  const fd = fs.openSync(staging, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  // A leftover WAL would be replayed onto the restored file; after the checkpoint it is empty.
  for (const suffix of ['-wal', '-shm']) fs.rmSync(target + suffix, { force: true });
  fs.renameSync(staging, target);
  fsyncDirectory(dir);
  return { version, previousCopy };
}
