import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../shared/errors';
import { fsyncDirectorySync, fsyncFileSync } from '../files/fsync';
import { LATEST_VERSION } from './migrations';
import { readRestoreMarker, writeRestoreMarker } from './restore-marker';

export interface RestoreResult {
  /** user_version of the restored database (opening the library migrates it if older). */
  version: number;
  /** Where the database that was replaced now lives, if there was one. */
  previousCopy: string | null;
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

export interface RestoreOptions {
  nativeBinding?: string;
  now?: () => number;
  /** What the marker records (restore.json): a restore, or the undo of one. */
  action?: 'restore' | 'undo-restore';
  /** The backup as a person named it (an archive), when `backupFile` is a database extracted from it. */
  from?: string;
}

/**
 * Replaces `dir/atelier.db` with a validated backup. The library must be closed (and its folder
 * locked by the caller). The current database is first checkpointed (so no committed data hides
 * in its WAL) and copied, fsynced, to backups/atelier-before-restore-<time>.db, which "Undo
 * restore" puts back; the backup is copied beside the target, fsynced and renamed over it, so at
 * every instant atelier.db is either the old or the new database. restore.json then says so, and
 * the next open leaves the files alone (see index.ts).
 */
export function restoreFrom(backupFile: string, dir: string, options: RestoreOptions = {}): RestoreResult {
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
    // The kept copy is what "Undo restore" returns to: it must survive a power cut like the rest.
    fsyncFileSync(previousCopy);
    fsyncDirectorySync(backups);
  }
  const staging = `${target}.restoring`;
  fs.copyFileSync(backupFile, staging);
  fsyncFileSync(staging);
  // A leftover WAL would be replayed onto the restored file; after the checkpoint it is empty.
  for (const suffix of ['-wal', '-shm']) fs.rmSync(target + suffix, { force: true });
  fs.renameSync(staging, target);
  fsyncDirectorySync(dir);
  writeRestoreMarker(dir, { action: options.action ?? 'restore', from: options.from ?? backupFile, restoredAt: now, previousDatabase: previousCopy, opened: false });
  return { version, previousCopy };
}

/**
 * Puts back the database a restore replaced (kept in backups/ by restoreFrom). The library must be
 * closed and locked by the caller. Files were never removed by the restore, and any the next open
 * set aside come back from quarantine when the database names them again, so the library returns
 * to what it was: rows and files. The restored database is kept in turn, so the undo can be undone.
 */
export function undoRestore(dir: string, options: { nativeBinding?: string; now?: () => number } = {}): RestoreResult {
  const marker = readRestoreMarker(dir);
  if (!marker || marker.action !== 'restore') throw new StudioError('NOT_FOUND', 'There is no restore to undo in this library.');
  if (!marker.previousDatabase || !fs.existsSync(marker.previousDatabase)) {
    throw new StudioError('NOT_FOUND', `The library as it was before the restore is not in ${path.join(dir, 'backups')} any more, so the restore cannot be undone.`);
  }
  return restoreFrom(marker.previousDatabase, dir, { ...options, action: 'undo-restore', from: marker.previousDatabase });
}
