import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncDirectory } from '../files/fsync';

const SHA256 = /^[0-9a-f]{64}$/;
const EXT = /^[a-z0-9]{1,12}$/;
const STORE_NAME = /^([0-9a-f]{64})\.([a-z0-9]{1,12})$/;

const EXT_BY_MIME: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/flac': 'flac',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'text/plain': 'txt',
  'text/markdown': 'md',
  'application/json': 'json',
};

/** The extension a stored file gets: from its MIME type, else from the source name, else "bin". */
export function extensionFor(mime: string, sourcePath: string): string {
  const known = EXT_BY_MIME[mime.toLowerCase()];
  if (known) return known;
  const fromName = path.extname(sourcePath).slice(1).toLowerCase();
  return EXT.test(fromName) ? fromName : 'bin';
}

/** Where `<sha256>.<ext>` lives under a store's files/ folder, or null when the name could escape it. */
export function storePath(filesDir: string, sha256: string, ext: string): string | null {
  if (!SHA256.test(sha256) || !EXT.test(ext)) return null;
  const resolved = path.resolve(filesDir, sha256.slice(0, 2), sha256.slice(2, 4), storeKey(sha256, ext));
  return resolved.startsWith(filesDir + path.sep) ? resolved : null;
}

export function storeKey(sha256: string, ext: string): string {
  return `${sha256}.${ext}`;
}

export interface StoredFile {
  sha256: string;
  ext: string;
  bytes: number;
}

/**
 * The content-addressed store: files/ab/cd/<sha256>.<ext>. Files are written to tmp/, fsynced,
 * renamed into place and their directory fsynced, all before the database row that names them is
 * committed; so a crash leaves at worst an unreferenced file, which the sweep removes.
 *
 * Files being written, or written but not yet committed, are "in flight": sweeps and purges skip
 * them, so a sweep running beside a commit can never delete a file a row is about to name.
 */
export class FileStore {
  readonly filesDir: string;
  readonly tmpDir: string;
  private readonly inFlightKeys = new Map<string, number>();
  private readonly inFlightTmp = new Set<string>();

  constructor(readonly root: string) {
    this.filesDir = path.join(root, 'files');
    this.tmpDir = path.join(root, 'tmp');
    fs.mkdirSync(this.filesDir, { recursive: true });
    fs.mkdirSync(this.tmpDir, { recursive: true });
  }

  /** Absolute path of a stored file, or null when the name could escape the store. */
  pathOf(sha256: string, ext: string): string | null {
    return storePath(this.filesDir, sha256, ext);
  }

  isInFlight(key: string): boolean {
    return this.inFlightKeys.has(key);
  }

  /** Releases what `put` reserved, once the row naming the file is committed (or abandoned). */
  release(key: string): void {
    const count = this.inFlightKeys.get(key) ?? 0;
    if (count <= 1) this.inFlightKeys.delete(key);
    else this.inFlightKeys.set(key, count - 1);
  }

  private reserve(key: string): void {
    this.inFlightKeys.set(key, (this.inFlightKeys.get(key) ?? 0) + 1);
  }

  /**
   * Copies `sourcePath` into the store, hashing as it goes. The returned key stays reserved until
   * `release(key)`. The source file is left for the caller to delete.
   */
  async put(sourcePath: string, ext: string): Promise<StoredFile> {
    if (!EXT.test(ext)) throw new Error(`invalid file extension "${ext}"`);
    const tmpPath = path.join(this.tmpDir, `${randomUUID()}.part`);
    this.inFlightTmp.add(tmpPath);
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      const source = await fsp.open(sourcePath, 'r');
      try {
        const target = await fsp.open(tmpPath, 'wx');
        try {
          const buffer = Buffer.allocUnsafe(1 << 20);
          for (;;) {
            const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
            if (bytesRead === 0) break;
            const chunk = buffer.subarray(0, bytesRead);
            hash.update(chunk);
            let written = 0;
            while (written < bytesRead) {
              const result = await target.write(chunk, written, bytesRead - written);
              written += result.bytesWritten;
            }
            bytes += bytesRead;
          }
          await target.sync();
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
      const sha256 = hash.digest('hex');
      const key = storeKey(sha256, ext);
      this.reserve(key);
      try {
        const destination = this.pathOf(sha256, ext);
        if (!destination) throw new Error('unreachable: a sha256 name is always inside the store');
        const dir = path.dirname(destination);
        const created = await fsp.mkdir(dir, { recursive: true });
        if (fs.existsSync(destination)) {
          await fsp.unlink(tmpPath);
        } else {
          await fsp.rename(tmpPath, destination);
          await fsyncDirectory(dir);
          if (created) {
            // New fan-out directories must themselves be durable entries of their parents.
            await fsyncDirectory(path.dirname(dir));
            await fsyncDirectory(this.filesDir);
          }
        }
      } catch (error) {
        this.release(key);
        throw error;
      }
      return { sha256, ext, bytes };
    } catch (error) {
      await fsp.rm(tmpPath, { force: true });
      throw error;
    } finally {
      this.inFlightTmp.delete(tmpPath);
    }
  }

  /** Deletes a stored file unless it is in flight. Returns the bytes freed. */
  removeSync(sha256: string, ext: string): number {
    if (this.isInFlight(storeKey(sha256, ext))) return 0;
    const file = this.pathOf(sha256, ext);
    if (!file) return 0;
    try {
      const { size } = fs.statSync(file);
      fs.unlinkSync(file);
      return size;
    } catch {
      return 0;
    }
  }

  /** Removes what is in tmp/ and no write of this process uses (half-written copies). Returns how many. */
  cleanTmpSync(): number {
    let removed = 0;
    for (const entry of readdirSafe(this.tmpDir)) {
      const full = path.join(this.tmpDir, entry);
      if (this.inFlightTmp.has(full)) continue;
      fs.rmSync(full, { force: true, recursive: true });
      removed++;
    }
    return removed;
  }

  /**
   * Moves files under files/ that `isReferenced` does not claim into quarantine (`quarantine`
   * returns the bytes it moved; nothing here deletes a stored file), and removes every file in tmp/
   * that no write in this process is using (those are only ever half-written copies). Synchronous:
   * it runs at open, under the library lock, before anything else touches the store.
   */
  sweepSync(isReferenced: (key: string) => boolean, quarantine: (file: string) => number): SweepReport {
    const report: SweepReport = { quarantinedFiles: 0, quarantinedBytes: 0, removedTmpFiles: this.cleanTmpSync(), returnedFiles: 0 };
    // While a write is between mkdir and rename, its empty directory must survive the sweep.
    const pruneDirs = this.inFlightKeys.size === 0;
    const setAside = (full: string): void => {
      for (const file of isDirectory(full) ? listFilesBelow(full) : [full]) {
        report.quarantinedBytes += quarantine(file);
        report.quarantinedFiles++;
      }
      if (isDirectory(full)) removeIfEmptyTree(full);
    };
    for (const first of readdirSafe(this.filesDir)) {
      const firstDir = path.join(this.filesDir, first);
      if (!isDirectory(firstDir)) {
        setAside(firstDir);
        continue;
      }
      for (const second of readdirSafe(firstDir)) {
        const secondDir = path.join(firstDir, second);
        if (!isDirectory(secondDir)) {
          setAside(secondDir);
          continue;
        }
        for (const name of readdirSafe(secondDir)) {
          const match = STORE_NAME.exec(name);
          const full = path.join(secondDir, name);
          const expectedDir = match ? path.join(this.filesDir, match[1]!.slice(0, 2), match[1]!.slice(2, 4)) : null;
          if (match && expectedDir === secondDir && (isReferenced(name) || this.isInFlight(name))) continue;
          setAside(full);
        }
        if (pruneDirs) removeIfEmpty(secondDir);
      }
      if (pruneDirs) removeIfEmpty(firstDir);
    }
    return report;
  }
}

export interface SweepReport {
  /** Store files no row names, moved to quarantine (never deleted). */
  quarantinedFiles: number;
  quarantinedBytes: number;
  /** Half-written copies removed from tmp/. */
  removedTmpFiles: number;
  /** Quarantined files the database names again, moved back into the store. */
  returnedFiles: number;
  /** Why the store was not checked at all this time (a new, empty or just-restored database). */
  skipped?: string;
}

function readdirSafe(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function isDirectory(entry: string): boolean {
  try {
    return fs.lstatSync(entry).isDirectory();
  } catch {
    return false;
  }
}

function listFilesBelow(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.join(e.parentPath, e.name));
}

function removeIfEmptyTree(dir: string): void {
  for (const entry of readdirSafe(dir)) {
    const full = path.join(dir, entry);
    if (isDirectory(full)) removeIfEmptyTree(full);
  }
  removeIfEmpty(dir);
}

function removeIfEmpty(dir: string): void {
  try {
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    // Best effort: an empty fan-out directory costs nothing.
  }
}
