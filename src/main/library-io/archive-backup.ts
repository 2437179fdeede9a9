import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { StudioError } from '../../shared/errors';
import { acquireLibraryLock, openLibrary, restoreFrom, validateBackup, type Library, type LibraryLock } from '../library';
import { fsyncDirectory } from '../files/fsync';
import { sha256File } from '../files/sha256-file';
import { makeStagingDir, removeStaleStaging } from './durable';
import { referencedHashes } from './library-scan';
import { TarReader, tarEnd, tarHeader, tarPadding } from './tar';

/**
 * Full-library backup as ONE file: a POSIX tar (`tar -tvf` lists it) holding, in this order,
 *   atelier-backup.json   what follows: counts, and the sha256 and size of every entry
 *   atelier.db            an online (SQLite backup API) snapshot of the database
 *   files/ab/cd/<sha256>.<ext>   every file the snapshot's generations name, hash-checked
 * The archive is written to `<file>.partial`, fsynced and renamed, so `file` is either a complete
 * archive or absent. Restore reads the whole archive into a staging folder and checks every hash
 * and the database (quick_check, schema) before it changes anything.
 */

export const BACKUP_MANIFEST = 'atelier-backup.json';
const DB_ENTRY = 'atelier.db';
const FILE_ENTRY = /^files\/([0-9a-f]{2})\/([0-9a-f]{2})\/(([0-9a-f]{64})\.[a-z0-9]{1,12})$/;
const BACKUP_STAGING_PREFIX = '.atelier-backup-';
const RESTORE_STAGING_PREFIX = 'restore-';

const BackupManifest = z.object({
  format: z.literal('atelier-backup'),
  version: z.literal(1),
  createdAt: z.string(),
  generations: z.number().int().min(0),
  database: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }),
  files: z.array(z.object({ name: z.string().regex(FILE_ENTRY), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) })),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

export interface BackupProgress {
  phase: 'database' | 'files' | 'verify' | 'restore';
  done: number;
  total: number;
}

export interface BackupResult {
  generations: number;
  files: number;
  /** Size of the archive. */
  bytes: number;
}

export interface RestoreLibraryResult extends BackupResult {
  /** Schema version of the restored database. */
  version: number;
  /** Where the database that was replaced was copied (backups/…), if there was one. */
  previousCopy: string | null;
}

/** Stored files in `<libraryDir>/files` by sha256 (one hash may be stored under several extensions). */
function storedFiles(libraryDir: string): Map<string, string[]> {
  const byHash = new Map<string, string[]>();
  const filesDir = path.join(libraryDir, 'files');
  for (const entry of fs.readdirSync(filesDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(filesDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    const match = FILE_ENTRY.exec(`files/${relative}`);
    if (!match || match[1] !== match[4]!.slice(0, 2) || match[2] !== match[4]!.slice(2, 4)) continue;
    const list = byHash.get(match[4]!) ?? [];
    list.push(`files/${relative}`);
    byHash.set(match[4]!, list);
  }
  return byHash;
}

class ArchiveWriter {
  bytes = 0;
  constructor(private readonly handle: fsp.FileHandle) {}
  async write(data: Buffer): Promise<void> {
    let written = 0;
    while (written < data.length) written += (await this.handle.write(data, written, data.length - written)).bytesWritten;
    this.bytes += data.length;
  }
  /** Appends a file as an entry, hashing it on the way; returns its sha256. */
  async appendFile(name: string, source: string, size: number, mtime: Date): Promise<string> {
    await this.write(tarHeader(name, size, mtime));
    const hash = createHash('sha256');
    let copied = 0;
    for await (const chunk of fs.createReadStream(source)) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      copied += buffer.length;
      if (copied > size) break;
      await this.write(buffer);
    }
    if (copied !== size) throw new Error(`${source} changed size while it was being backed up`);
    await this.write(tarPadding(size));
    return hash.digest('hex');
  }
}

/**
 * Backs up the open `library` (whose folder is `libraryDir`) into the single archive `file`.
 * The library stays usable meanwhile; the archive holds the database as of the snapshot and the
 * files that snapshot names (files are written before the rows that name them, so all exist).
 */
export async function backupLibrary(library: Library, libraryDir: string, file: string, opts: { onProgress?: (p: BackupProgress) => void } = {}): Promise<BackupResult> {
  const target = path.resolve(file);
  const parent = path.dirname(target);
  await fsp.mkdir(parent, { recursive: true });
  await removeStaleStaging(parent, BACKUP_STAGING_PREFIX);
  const staging = await makeStagingDir(parent, BACKUP_STAGING_PREFIX);
  const partial = `${target}.partial`;
  try {
    opts.onProgress?.({ phase: 'database', done: 0, total: 1 });
    const snapshotDir = path.join(staging, 'library');
    await fsp.mkdir(snapshotDir);
    const snapshotDb = path.join(snapshotDir, DB_ENTRY);
    await library.backupTo(snapshotDb);
    // Which files the snapshot names: read through the library module, on the snapshot copy.
    const snapshot = openLibrary(snapshotDir);
    let referenced: ReturnType<typeof referencedHashes>;
    try {
      referenced = referencedHashes(snapshot);
    } finally {
      snapshot.close();
    }
    for (const suffix of ['-wal', '-shm']) await fsp.rm(snapshotDb + suffix, { force: true });
    const database = await sha256File(snapshotDb);

    const stored = storedFiles(libraryDir);
    const files: BackupManifest['files'] = [];
    for (const sha256 of [...referenced.hashes].sort()) {
      const names = stored.get(sha256);
      if (!names?.length) throw new StudioError('INTERNAL', `The library file ${sha256} is missing, so the backup would be incomplete. Run a library check, then back up again.`);
      for (const name of names) files.push({ name, sha256, bytes: (await fsp.stat(path.join(libraryDir, name))).size });
    }
    const manifest: BackupManifest = {
      format: 'atelier-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      generations: referenced.generations,
      database,
      files,
    };

    await fsp.rm(partial, { force: true });
    const handle = await fsp.open(partial, 'wx');
    let bytes: number;
    try {
      const out = new ArchiveWriter(handle);
      const now = new Date();
      const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      await out.write(tarHeader(BACKUP_MANIFEST, manifestBytes.length, now));
      await out.write(manifestBytes);
      await out.write(tarPadding(manifestBytes.length));
      if ((await out.appendFile(DB_ENTRY, snapshotDb, database.bytes, now)) !== database.sha256) throw new Error('the database snapshot changed while it was being archived');
      for (const [done, entry] of files.entries()) {
        const actual = await out.appendFile(entry.name, path.join(libraryDir, entry.name), entry.bytes, now);
        if (actual !== entry.sha256) {
          throw new StudioError('DB_CORRUPT', `The library file ${entry.name} is damaged (its content no longer matches its hash). The backup was not written; restore that file from an older backup or remove its generation.`);
        }
        opts.onProgress?.({ phase: 'files', done: done + 1, total: files.length });
      }
      await out.write(tarEnd());
      await handle.sync();
      bytes = out.bytes;
    } finally {
      await handle.close();
    }
    await fsp.rename(partial, target);
    await fsyncDirectory(parent);
    return { generations: manifest.generations, files: files.length, bytes };
  } catch (error) {
    await fsp.rm(partial, { force: true });
    throw error;
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

function refuse(file: string, why: string): StudioError {
  return new StudioError('DB_CORRUPT', `The backup ${file} cannot be restored: ${why}. Choose another backup; your current library was not changed.`);
}

interface Extracted {
  manifest: BackupManifest;
  database: string;
  /** Archive name (files/ab/cd/x.ext) → extracted path. */
  files: Map<string, string>;
  bytes: number;
}

/** Reads the whole archive into `staging`, checking structure and every hash. Changes nothing else. */
async function extractVerified(file: string, staging: string, onProgress?: (p: BackupProgress) => void): Promise<Extracted> {
  let reader: TarReader;
  try {
    reader = await TarReader.open(file);
  } catch (error) {
    throw refuse(file, error instanceof Error ? error.message : String(error));
  }
  try {
    const first = await reader.next();
    if (!first || first.name !== BACKUP_MANIFEST || first.size > 64 * 1024 * 1024) throw new Error('it is not an Atelier backup (no atelier-backup.json at its start)');
    const parts: Buffer[] = [];
    for await (const chunk of reader.body(first.size)) parts.push(chunk);
    const parsed = BackupManifest.safeParse(JSON.parse(Buffer.concat(parts).toString('utf8')));
    if (!parsed.success) throw new Error(`its description is not one this Atelier reads (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    const manifest = parsed.data;
    const expected = new Map(manifest.files.map((f) => [f.name, f]));
    const files = new Map<string, string>();
    let database: string | null = null;
    for (;;) {
      const entry = await reader.next();
      if (!entry) break;
      if (entry.type !== '0') throw new Error(`it holds an unexpected entry ${entry.name}`);
      let out: string;
      let want: { sha256: string; bytes: number };
      if (entry.name === DB_ENTRY && database === null) {
        out = database = path.join(staging, DB_ENTRY);
        want = manifest.database;
      } else {
        const listed = expected.get(entry.name);
        if (!listed || files.has(entry.name)) throw new Error(`it holds an unexpected entry ${entry.name}`);
        const nameHash = FILE_ENTRY.exec(entry.name)?.[4];
        if (nameHash !== listed.sha256) throw new Error(`entry ${entry.name} is listed with another hash`);
        out = path.join(staging, 'files', FILE_ENTRY.exec(entry.name)![3]!);
        files.set(entry.name, out);
        want = listed;
      }
      if (entry.size !== want.bytes) throw new Error(`entry ${entry.name} has ${entry.size} bytes, ${want.bytes} expected`);
      await fsp.mkdir(path.dirname(out), { recursive: true });
      const hash = createHash('sha256');
      const handle = await fsp.open(out, 'wx');
      try {
        for await (const chunk of reader.body(entry.size)) {
          hash.update(chunk);
          let written = 0;
          while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (hash.digest('hex') !== want.sha256) throw new Error(`entry ${entry.name} is damaged (sha256 mismatch)`);
      onProgress?.({ phase: 'verify', done: files.size, total: manifest.files.length });
    }
    if (database === null) throw new Error('it holds no database');
    const missing = manifest.files.find((f) => !files.has(f.name));
    if (missing) throw new Error(`it lacks ${missing.name}`);
    return { manifest, database, files, bytes: reader.size };
  } catch (error) {
    if (error instanceof StudioError) throw error;
    throw refuse(file, error instanceof Error ? error.message : String(error));
  } finally {
    await reader.close();
  }
}

/** Checks a backup archive end to end (structure, every hash, database quick_check) without restoring it. */
export async function verifyBackup(file: string, scratchDir: string): Promise<BackupResult & { version: number }> {
  await fsp.mkdir(scratchDir, { recursive: true });
  const staging = await makeStagingDir(scratchDir, RESTORE_STAGING_PREFIX);
  try {
    const extracted = await extractVerified(path.resolve(file), staging);
    const version = validateBackup(extracted.database);
    return { generations: extracted.manifest.generations, files: extracted.files.size, bytes: extracted.bytes, version };
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/**
 * Replaces the library in `libraryDir` with the backup `file`, under the folder's lock (LIBRARY_IN_USE
 * while an app or another command has it). Nothing changes until the whole archive has been
 * verified; then files are renamed into files/ beside the old ones (none is removed: "Undo restore"
 * needs them) and last the database is swapped atomically by the library's restoreFrom, which keeps
 * the old database. A kill at any point leaves either the old library or the restored one.
 */
export async function restoreLibrary(file: string, libraryDir: string, opts: { onProgress?: (p: BackupProgress) => void; lock?: LibraryLock; nativeBinding?: string } = {}): Promise<RestoreLibraryResult> {
  const source = path.resolve(file);
  if (!fs.existsSync(source)) throw new StudioError('NOT_FOUND', `There is no backup at ${source}. Check the path.`);
  const root = path.resolve(libraryDir);
  // Never under a running app: the folder's owner is told and nothing changes.
  const lock = opts.lock ?? acquireLibraryLock(root, { kind: 'command line', detail: 'atelier library restore' }, { nativeBinding: opts.nativeBinding });
  try {
    return await restoreLocked(source, root, opts.onProgress, opts.nativeBinding);
  } finally {
    if (!opts.lock) lock.release();
  }
}

async function restoreLocked(source: string, root: string, onProgress: ((p: BackupProgress) => void) | undefined, nativeBinding: string | undefined): Promise<RestoreLibraryResult> {
  const opts = { onProgress };
  // tmp/ is swept when the library opens, so a killed restore leaves nothing behind for long.
  const tmp = path.join(root, 'tmp');
  await fsp.mkdir(tmp, { recursive: true });
  await removeStaleStaging(tmp, RESTORE_STAGING_PREFIX);
  const staging = await makeStagingDir(tmp, RESTORE_STAGING_PREFIX);
  try {
    const extracted = await extractVerified(source, staging, opts.onProgress);
    validateBackup(extracted.database, nativeBinding);
    // The database's files come in beside those already there; none is replaced or removed.

    const touched = new Set<string>();
    let done = 0;
    for (const [name, extractedPath] of extracted.files) {
      const destination = path.join(root, ...name.split('/'));
      const sha256 = FILE_ENTRY.exec(name)![4]!;
      // An existing file is kept only if it is intact; a damaged one is replaced.
      const intact = fs.existsSync(destination) && (await sha256File(destination)).sha256 === sha256;
      if (!intact) {
        await fsp.mkdir(path.dirname(destination), { recursive: true });
        await fsp.rename(extractedPath, destination);
        touched.add(path.dirname(destination));
        touched.add(path.dirname(path.dirname(destination)));
      }
      opts.onProgress?.({ phase: 'restore', done: ++done, total: extracted.files.size });
    }
    for (const dir of touched) await fsyncDirectory(dir);
    if (touched.size) await fsyncDirectory(path.join(root, 'files'));
    const restored = restoreFrom(extracted.database, root, { from: source, nativeBinding });
    return { generations: extracted.manifest.generations, files: extracted.files.size, bytes: extracted.bytes, version: restored.version, previousCopy: restored.previousCopy };
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
