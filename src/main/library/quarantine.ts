import fs from 'node:fs';
import path from 'node:path';

/**
 * Where the library puts files that its database does not name, instead of deleting them:
 * `quarantine/` inside the library, keeping each file's place (`quarantine/files/ab/cd/<sha>.png`,
 * `quarantine/records/xy/<id>.json`), so a rebuild can read it like the library itself and a file
 * the database names again (after an undo of a restore, say) can be moved straight back.
 *
 * A file's modification time is set when it arrives: entries older than `EXPIRY_MS` are the only
 * ones ever removed without someone asking (Settings → Library → Quarantine → Delete asks).
 */

export const QUARANTINE_DIR = 'quarantine';
export const QUARANTINE_EXPIRY_MS = 30 * 24 * 60 * 60 * 1000;

export interface QuarantineSummary {
  files: number;
  bytes: number;
  /** Generation records among them (each can come back with "Rebuild from these"). */
  records: number;
  oldestAt: number | null;
}

export class Quarantine {
  readonly dir: string;
  constructor(
    private readonly libraryRoot: string,
    private readonly now: () => number = Date.now,
  ) {
    this.dir = path.join(libraryRoot, QUARANTINE_DIR);
  }

  /** Moves `file` (inside the library) into quarantine at the same relative place. Returns its size. */
  admit(file: string): number {
    const relative = path.relative(this.libraryRoot, file);
    if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`${file} is not inside the library`);
    let target = path.join(this.dir, relative);
    const size = sizeOf(file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (fs.existsSync(target)) {
      // The same name arrived before (content-addressed names repeat): keep both, never overwrite.
      target = `${target}.${this.now()}-${process.pid}`;
    }
    fs.renameSync(file, target);
    const when = new Date(this.now());
    try {
      fs.utimesSync(target, when, when);
    } catch {
      // Without the stamp the entry only expires later than it should, which is the safe side.
    }
    return size;
  }

  /** The quarantined copy of a library-relative path (e.g. files/ab/cd/x.png), or null. */
  find(relative: string): string | null {
    const candidate = path.join(this.dir, relative);
    return fs.existsSync(candidate) ? candidate : null;
  }

  /**
   * Moves every quarantined store file that `wanted` names (by `<sha256>.<ext>`) back to its place
   * under `files/` when nothing is there. Returns how many came back.
   */
  returnWanted(wanted: (key: string) => boolean): number {
    const base = path.join(this.dir, 'files');
    let returned = 0;
    for (const file of walk(base)) {
      const name = path.basename(file);
      if (!wanted(name)) continue;
      const destination = path.join(this.libraryRoot, 'files', path.relative(base, file));
      if (fs.existsSync(destination)) continue;
      fs.mkdirSync(path.dirname(destination), { recursive: true });
      fs.renameSync(file, destination);
      returned++;
    }
    return returned;
  }

  summary(): QuarantineSummary {
    const summary: QuarantineSummary = { files: 0, bytes: 0, records: 0, oldestAt: null };
    for (const file of walk(this.dir)) {
      const stat = statSafe(file);
      if (!stat) continue;
      summary.files++;
      summary.bytes += stat.size;
      if (file.endsWith('.json') && path.relative(this.dir, file).startsWith(`records${path.sep}`)) summary.records++;
      summary.oldestAt = summary.oldestAt === null ? stat.mtimeMs : Math.min(summary.oldestAt, stat.mtimeMs);
    }
    return summary;
  }

  /** Removes entries that arrived more than `QUARANTINE_EXPIRY_MS` ago. Returns the bytes freed. */
  expire(): number {
    const cutoff = this.now() - QUARANTINE_EXPIRY_MS;
    let freed = 0;
    for (const file of walk(this.dir)) {
      const stat = statSafe(file);
      if (!stat || stat.mtimeMs >= cutoff) continue;
      fs.rmSync(file, { force: true });
      freed += stat.size;
    }
    pruneEmpty(this.dir);
    return freed;
  }

  /** Deletes everything in quarantine: only ever called when a person asked for it. */
  deleteAll(): QuarantineSummary {
    const before = this.summary();
    fs.rmSync(this.dir, { recursive: true, force: true });
    return before;
  }
}

function sizeOf(file: string): number {
  return statSafe(file)?.size ?? 0;
}

function statSafe(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

/** Every regular file below `dir`. */
export function walk(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

function pruneEmpty(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) pruneEmpty(path.join(dir, entry.name));
  try {
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  } catch {
    // best effort
  }
}
