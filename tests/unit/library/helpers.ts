import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openLibrary, type Library } from '../../../src/main/library';
import { asWritable } from '../../../src/main/library/db';
import { MIGRATIONS } from '../../../src/main/library/migrations';

export interface TestLibrary {
  base: string;
  dir: string;
  library: Library;
  clock: { now: number };
  /** Writes a scratch file the caller "produced" and returns its path. */
  scratch(name: string, content: string | Buffer): string;
  reopen(): Library;
  cleanup(): void;
}

export function tempDir(prefix = 'atelier-lib-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function sha256File(file: string): string {
  return sha256(fs.readFileSync(file));
}

/** A library in a temp dir with a clock that advances 1 ms per read unless a test pins it. */
export function createTestLibrary(): TestLibrary {
  const base = tempDir();
  const dir = path.join(base, 'library');
  const clock = { now: 1_700_000_000_000 };
  const now = () => clock.now++;
  const t: TestLibrary = {
    base,
    dir,
    clock,
    library: openLibrary(dir, { now }),
    scratch(name, content) {
      const file = path.join(base, 'scratch', name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      return file;
    },
    reopen() {
      t.library.close();
      t.library = openLibrary(dir, { now });
      return t.library;
    },
    cleanup() {
      t.library.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  return t;
}

/** Every row that describes a generation, as SQLite holds it (search_rowid is the FTS key, not data). */
export function dumpGenerations(dir: string): { generations: unknown[]; assets: unknown[]; tags: unknown[] } {
  const db = new Database(path.join(dir, 'atelier.db'), { readonly: true });
  try {
    return {
      generations: db
        .prepare(
          `SELECT id, kind, model, model_digest, prompt, negative_prompt, seed, params, parent_id, provider, provider_note, timings,
             output_text, rating, favourite, notes, created_at, deleted_at FROM generations ORDER BY id`,
        )
        .all(),
      assets: db.prepare('SELECT * FROM assets ORDER BY id').all(),
      tags: db.prepare('SELECT gt.generation_id, t.name FROM generation_tags gt JOIN tags t ON t.id = gt.tag_id ORDER BY 1, 2').all(),
    };
  } finally {
    db.close();
  }
}

/** Every file under the library's files/ with its hash. */
export function storeHashes(dir: string): Record<string, string> {
  const filesDir = path.join(dir, 'files');
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(filesDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(filesDir, full)] = sha256File(full);
  }
  return out;
}

/**
 * A library folder whose database is exactly as schema `version` left it (the first `version`
 * migrations, nothing later), under a new folder that `dirs` collects for clean-up. `seed` adds the
 * rows the migration test needs, on that old schema.
 */
export function writeLibraryAtVersion(version: number, dirs: string[], seed: (db: Database.Database) => void): string {
  const base = tempDir();
  dirs.push(base);
  const dir = path.join(base, 'library');
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, 'atelier.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  for (const m of MIGRATIONS.slice(0, version)) m.up(asWritable(db));
  db.pragma(`user_version = ${version}`);
  seed(db);
  db.close();
  return dir;
}
