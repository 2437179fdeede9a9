import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../shared/errors';

/**
 * One owner per library folder. The lock is SQLite's own: a small database beside the library held
 * with `locking_mode = EXCLUSIVE` after a write, which is an fcntl lock on POSIX and a LockFileEx
 * lock on Windows. The operating system drops it the moment the holder dies (SIGKILL, power loss of
 * the process, a native crash), so there is never a stale lock to clean up. The library database
 * itself is not locked this way, so read-only readers (`atelier library list` beside the app) work.
 *
 * Who holds the lock is written to `owner.json` after the lock is taken; the file is only ever
 * read to tell a second process whom to ask, never trusted as the lock itself.
 */

export const LOCK_FILE = 'library.lock';
export const OWNER_FILE = 'owner.json';

export type LibraryOwnerKind = 'desktop app' | 'browser mode (atelier serve)' | 'command line';

export interface LibraryOwner {
  kind: LibraryOwnerKind;
  pid: number;
  /** What the owner is doing, e.g. "atelier generate image". */
  detail?: string;
  startedAt: number;
}

export interface LibraryLock {
  readonly dir: string;
  readonly owner: LibraryOwner;
  release(): void;
}

/** Who holds the library in `dir`, as far as its owner file says (null when unknown). */
export function readLibraryOwner(dir: string): LibraryOwner | null {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    if (!parsed || typeof parsed !== 'object') return null;
    const owner = parsed as Partial<LibraryOwner>;
    if (typeof owner.kind !== 'string' || typeof owner.pid !== 'number' || typeof owner.startedAt !== 'number') return null;
    return { kind: owner.kind, pid: owner.pid, startedAt: owner.startedAt, ...(typeof owner.detail === 'string' ? { detail: owner.detail } : {}) };
  } catch {
    return null;
  }
}

function describeOwner(owner: LibraryOwner | null): string {
  if (!owner) return 'another Atelier process';
  const what = owner.kind === 'command line' ? `an Atelier command${owner.detail ? ` (${owner.detail})` : ''}` : `Atelier's ${owner.kind}`;
  return `${what}, process ${owner.pid}, since ${new Date(owner.startedAt).toLocaleString()}`;
}

/** The error a second writer gets: who holds the library and what to do. */
export function libraryInUse(dir: string, owner: LibraryOwner | null): StudioError {
  const advice =
    owner?.kind === 'command line'
      ? 'Wait for that command to finish, then try again.'
      : 'Do this from the running app, or close it (Ctrl+C stops `atelier serve`) and try again. Reading commands (library list, search, show, export) work beside it.';
  return new StudioError('LIBRARY_IN_USE', `The library in ${dir} is in use by ${describeOwner(owner)}. ${advice}`);
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Takes the library folder `dir` for this process, or throws LIBRARY_IN_USE naming the holder.
 * Within one process a second acquire of the same folder fails the same way (SQLite tracks its
 * locks per file, not per connection), so two studios in one test cannot share a folder either.
 */
export function acquireLibraryLock(dir: string, owner: Omit<LibraryOwner, 'pid' | 'startedAt'>, options: { nativeBinding?: string } = {}): LibraryLock {
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, LOCK_FILE), { timeout: 0, nativeBinding: options.nativeBinding });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the EXCLUSIVE file lock, and in exclusive locking mode it is kept until close.
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lock (id INTEGER PRIMARY KEY); COMMIT;');
  } catch (error) {
    db.close();
    if (isBusy(error)) throw libraryInUse(dir, readLibraryOwner(dir));
    throw error;
  }
  const full: LibraryOwner = { ...owner, pid: process.pid, startedAt: Date.now() };
  const ownerFile = path.join(dir, OWNER_FILE);
  try {
    const tmp = `${ownerFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(full, null, 2)}\n`);
    fs.renameSync(tmp, ownerFile);
  } catch {
    // Only the message to a second process suffers; the lock itself is held.
  }
  let released = false;
  return {
    dir,
    owner: full,
    release() {
      if (released) return;
      released = true;
      // The owner file goes first: once the lock is free another process may write its own.
      try {
        if (readLibraryOwner(dir)?.pid === process.pid) fs.rmSync(ownerFile, { force: true });
      } catch {
        // best effort
      }
      db.close();
    },
  };
}
