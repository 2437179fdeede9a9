import fs from 'node:fs';
import path from 'node:path';
import { importPngFolder } from '../library-io/import';
import { acquireLibraryLock, type LibraryOwner } from './lock';
import { openLibrary, type Library } from './index';
import { walk } from './quarantine';
import type { RecoveryReport } from './rebuild';

/**
 * What a person can do with a library whose database is damaged or lost (the recovery window of
 * the desktop app and `atelier library rebuild|start-empty`). None of it deletes anything: the
 * database in the way is moved into backups/, the files stay, the records stay.
 */

function stamp(now: number): string {
  return new Date(now).toISOString().replace(/[:.]/g, '-');
}

/**
 * Moves atelier.db (with its -wal and -shm, which belong to it) to backups/atelier-<why>-<time>.db.
 * Returns where it went, or null when there was no database.
 */
export function setDatabaseAside(root: string, why: 'damaged' | 'before-rebuild', now: number = Date.now()): string | null {
  const db = path.join(root, 'atelier.db');
  if (!fs.existsSync(db)) return null;
  const backups = path.join(root, 'backups');
  fs.mkdirSync(backups, { recursive: true });
  const target = path.join(backups, `atelier-${why}-${stamp(now)}.db`);
  // The WAL and shm first: a crash between the renames leaves the database where it was, whole.
  for (const suffix of ['-wal', '-shm']) if (fs.existsSync(db + suffix)) fs.renameSync(db + suffix, target + suffix);
  fs.renameSync(db, target);
  return target;
}

export interface RebuildResult extends RecoveryReport {
  /** Where the database that was there before went (null when there was none). */
  setAside: string | null;
  /** Pictures without a record (from before records existed) brought back from their PNG metadata. */
  pictures: string[];
}

const OWNER = (detail: string): Omit<LibraryOwner, 'pid' | 'startedAt'> => ({ kind: 'command line', detail });

/**
 * PNGs in the store or quarantine that no generation names (a library from before records were
 * kept, say) come back as generations read from their own metadata (Atelier's chunk or
 * AUTOMATIC1111/ComfyUI/InvokeAI parameters), through the folder import. Copies go through a
 * scratch folder so the import never sees, or restores from the trash, a file a record brought back.
 */
async function importUnrecordedPictures(library: Library, root: string): Promise<string[]> {
  const named = library.referencedFileKeys();
  const pictures = [...walk(path.join(root, 'files')), ...walk(path.join(root, 'quarantine', 'files'))].filter((file) => /^[0-9a-f]{64}\.png$/.test(path.basename(file)) && !named.has(path.basename(file)));
  if (pictures.length === 0) return [];
  const scratch = fs.mkdtempSync(path.join(root, 'tmp', 'rebuild-'));
  try {
    for (const file of pictures) fs.copyFileSync(file, path.join(scratch, path.basename(file)));
    return (await importPngFolder(library, scratch)).ids;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Re-creates the library's database from its own folder: the database in the way (damaged, or
 * healthy) is set aside, a new one is made, and every generation whose record is in records/ or in
 * quarantine comes back with its files (records.ts, rebuild.ts).
 */
export async function rebuildLibrary(dir: string, options: { owner?: Omit<LibraryOwner, 'pid' | 'startedAt'>; nativeBinding?: string } = {}): Promise<RebuildResult> {
  const root = path.resolve(dir);
  const lock = acquireLibraryLock(root, options.owner ?? OWNER('atelier library rebuild'), { nativeBinding: options.nativeBinding });
  let setAside: string | null;
  try {
    setAside = setDatabaseAside(root, 'before-rebuild');
  } catch (error) {
    lock.release();
    throw error;
  }
  const library = openLibrary(root, { lock, nativeBinding: options.nativeBinding });
  try {
    const report = library.recoverFromRecords();
    const pictures = await importUnrecordedPictures(library, root);
    return { ...report, setAside, pictures };
  } finally {
    library.close();
  }
}

/** Sets a damaged database aside so that the next open starts an empty library beside the same files. */
export function startEmptyLibrary(dir: string, options: { owner?: Omit<LibraryOwner, 'pid' | 'startedAt'>; nativeBinding?: string } = {}): string | null {
  const root = path.resolve(dir);
  const lock = acquireLibraryLock(root, options.owner ?? OWNER('atelier library start-empty'), { nativeBinding: options.nativeBinding });
  try {
    return setDatabaseAside(root, 'damaged');
  } finally {
    lock.release();
  }
}
