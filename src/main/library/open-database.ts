import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../shared/errors';
import { asWritable, type WritableDB } from './db';
import { LATEST_VERSION, MIGRATIONS } from './migrations';

export interface OpenDatabaseOptions {
  /** Path to a better_sqlite3.node built for the running ABI (Electron vs Node). */
  nativeBinding?: string;
  now?: () => number;
}

export interface OpenedDatabase {
  db: WritableDB;
  /** user_version before migrating; 0 for a new library. */
  previousVersion: number;
  /** The copy written before migrating, if any. */
  migrationBackup: string | null;
}

function corrupt(file: string, detail: string): StudioError {
  return new StudioError(
    'DB_CORRUPT',
    `The library database ${file} is damaged (${detail}). Atelier changed nothing. Your pictures, music and texts in the ` +
      `"files" folder beside it are safe, and each carries its own record. To go on: rebuild the library from those files ` +
      `("Rebuild from files" in the recovery window, or \`atelier library rebuild\`), restore a backup (\`atelier library restore FILE\`; ` +
      `copies made before upgrades are in the "backups" folder), or start an empty library (\`atelier library start-empty\`). ` +
      `None of these deletes anything: the damaged database is kept in "backups".`,
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads user_version and runs quick_check on a read-only connection before anything can write to
 * the file: a database from a newer app, or a damaged one, must be left exactly as it was.
 */
function probeExisting(file: string, nativeBinding: string | undefined): number {
  let probe: Database.Database | null = null;
  try {
    probe = new Database(file, { readonly: true, fileMustExist: true, nativeBinding });
    const version = probe.pragma('user_version', { simple: true });
    if (typeof version !== 'number') throw new Error('user_version is unreadable');
    if (version > LATEST_VERSION) {
      throw new StudioError(
        'DB_NEWER_THAN_APP',
        `This library was written by a newer version of Atelier (schema v${version}; this version understands up to v${LATEST_VERSION}). ` +
          `Update Atelier to open it. The library was not changed.`,
      );
    }
    const check = probe.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw corrupt(file, `quick_check reported: ${String(check)}`);
    return version;
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw corrupt(file, describe(error));
  } finally {
    probe?.close();
  }
}

function timestampForFile(now: number): string {
  return new Date(now).toISOString().replace(/[:.]/g, '-');
}

/**
 * Opens the single writing connection: checks, migrates (backup first) and sets the pragmas that
 * make a commit durable (WAL + synchronous=FULL).
 */
export function openDatabase(dir: string, options: OpenDatabaseOptions = {}): OpenedDatabase {
  const file = path.join(dir, 'atelier.db');
  const now = options.now ?? Date.now;
  const existed = fs.existsSync(file) && fs.statSync(file).size > 0;
  if (existed) probeExisting(file, options.nativeBinding);

  let raw: Database.Database;
  try {
    raw = new Database(file, { nativeBinding: options.nativeBinding });
  } catch (error) {
    throw corrupt(file, describe(error));
  }
  const db = asWritable(raw);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');

    const previousVersion = db.pragma('user_version', { simple: true }) as number;
    if (previousVersion > LATEST_VERSION) {
      // Another process upgraded the file between the probe and now; leave it alone.
      throw new StudioError('DB_NEWER_THAN_APP', `This library was upgraded by a newer Atelier while opening. Update Atelier to open it.`);
    }
    const pending = MIGRATIONS.filter((m) => m.version > previousVersion);
    let migrationBackup: string | null = null;
    if (pending.length > 0) {
      if (previousVersion > 0) migrationBackup = backupBeforeMigrating(db, dir, previousVersion, now());
      // foreign_keys cannot change inside a transaction; migrations that rebuild tables rely on
      // the check at the end instead.
      db.transaction(() => {
        for (const migration of pending) migration.up(db);
        const violations = db.pragma('foreign_key_check') as unknown[];
        if (violations.length > 0) throw new Error(`migration left ${violations.length} broken references`);
        db.pragma(`user_version = ${LATEST_VERSION}`);
      })();
    }
    return { db, previousVersion, migrationBackup };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * VACUUM INTO rather than the async online-backup API: opening stays synchronous, and a
 * VACUUM INTO copy is a consistent snapshot made by SQLite itself (it is the documented
 * synchronous way to back up a live database).
 */
function backupBeforeMigrating(db: WritableDB, dir: string, version: number, now: number): string {
  const backups = path.join(dir, 'backups');
  fs.mkdirSync(backups, { recursive: true });
  const target = path.join(backups, `atelier-v${version}-${timestampForFile(now)}.db`);
  db.prepare('VACUUM INTO ?').run(target);
  return target;
}
