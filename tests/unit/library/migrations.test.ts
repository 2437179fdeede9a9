import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StudioError } from '../../../src/shared/errors';
import { LATEST_VERSION, openLibrary } from '../../../src/main/library';
import { asWritable } from '../../../src/main/library/db';
import * as initial from '../../../src/main/library/migrations/001-initial';
import { sha256File, tempDir } from './helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function libraryDir(): string {
  const base = tempDir();
  dirs.push(base);
  const dir = path.join(base, 'library');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Builds a database exactly as schema v1 left it, with real rows in it. */
function writeV1Library(dir: string): void {
  const db = new Database(path.join(dir, 'atelier.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  initial.up(asWritable(db));
  db.pragma('user_version = 1');
  const hash = 'a'.repeat(64);
  db.prepare(`INSERT INTO generations (id, search_rowid, kind, model, prompt, params, timings, created_at) VALUES ('g1', 1, 'image', 'sd-turbo', 'a lighthouse at dusk', '{"steps":4}', '{"totalMs":900}', 1000)`).run();
  db.prepare(`INSERT INTO generations (id, search_rowid, kind, model, prompt, parent_id, created_at) VALUES ('g2', 2, 'image', 'sd-turbo', 'a lighthouse at dawn', 'g1', 2000)`).run();
  db.prepare(`INSERT INTO assets (id, generation_id, sha256, ext, mime, bytes, role, width, height, created_at) VALUES ('a1', 'g1', ?, 'png', 'image/png', 3, 'image', 512, 512, 1000)`).run(hash);
  db.prepare(`INSERT INTO tags (name) VALUES ('coast')`).run();
  db.prepare(`INSERT INTO generation_tags (generation_id, tag_id) VALUES ('g1', 1)`).run();
  db.prepare(`INSERT INTO documents (id, title, body, notes, words, created_at, updated_at) VALUES ('d1', 'Harbour novel', 'It was dark.', 'chapter plan: storms', 3, 1000, 1000)`).run();
  db.prepare(`INSERT INTO documents (id, title, body, words, created_at, updated_at) VALUES ('d2', 'Letters', 'Dear you', 2, 1000, 1500)`).run();
  db.prepare(`INSERT INTO jobs (id, kind, params, state, created_at) VALUES ('j1', 'text', '{}', 'queued', 1000)`).run();
  db.prepare(`INSERT INTO settings (key, value) VALUES ('theme', '"dark"')`).run();
  // The file the asset names, so the sweep at open keeps it.
  const file = path.join(dir, 'files', 'aa', 'aa', `${hash}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'png');
  db.close();
}

describe('migrations', () => {
  it('creates a new library at the latest schema version', () => {
    const dir = libraryDir();
    const library = openLibrary(dir);
    expect(library.openedFromVersion).toBe(0);
    expect(library.migrationBackup).toBeNull();
    library.close();
    const db = new Database(path.join(dir, 'atelier.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('001 initial: rows written at v1 read back through the library with lineage, tags, FTS and assets', () => {
    const dir = libraryDir();
    writeV1Library(dir);
    const library = openLibrary(dir);
    const g1 = library.getGeneration('g1');
    expect(g1).toMatchObject({ prompt: 'a lighthouse at dusk', params: { steps: 4 }, timings: { totalMs: 900 }, tags: ['coast'] });
    expect(g1.assets).toHaveLength(1);
    expect(library.listChildren('g1').map((g) => g.id)).toEqual(['g2']);
    expect(library.searchGenerations({ query: 'coast' }).items.map((h) => h.generation.id)).toEqual(['g1']);
    expect(library.nextQueuedJob()?.id).toBe('j1');
    expect(library.getSetting('theme')).toBe('dark');
    library.close();
  });

  it('002 document search: v1 documents become searchable by title and notes after the upgrade', () => {
    const dir = libraryDir();
    writeV1Library(dir);
    const library = openLibrary(dir);
    expect(library.openedFromVersion).toBe(1);
    expect(library.searchDocuments('harbour').map((h) => h.document.id)).toEqual(['d1']);
    expect(library.searchDocuments('storms')[0]?.snippet).toContain('<mark>storms</mark>');
    expect(library.getDocument('d2').body).toBe('Dear you');
    // New and renamed documents are indexed by the triggers 002 added.
    const created = library.createDocument({ title: 'Lighthouse keeper' });
    expect(library.searchDocuments('keeper').map((h) => h.document.id)).toEqual([created.id]);
    library.updateDocument('d2', { title: 'Postcards' });
    expect(library.searchDocuments('postcards').map((h) => h.document.id)).toEqual(['d2']);
    expect(library.searchDocuments('letters')).toEqual([]);
    library.close();
  });

  it('backs up an existing library before migrating it, and the backup holds the old rows at the old version', () => {
    const dir = libraryDir();
    writeV1Library(dir);
    const library = openLibrary(dir);
    const backup = library.migrationBackup;
    library.close();
    expect(backup).toMatch(/backups[/\\]atelier-v1-.*\.db$/);
    const db = new Database(backup!, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare('SELECT prompt FROM generations ORDER BY id').all()).toEqual([{ prompt: 'a lighthouse at dusk' }, { prompt: 'a lighthouse at dawn' }]);
    db.close();
  });

  it('does not back up or migrate again when the library is already current', () => {
    const dir = libraryDir();
    openLibrary(dir).close();
    const library = openLibrary(dir);
    expect(library.openedFromVersion).toBe(LATEST_VERSION);
    expect(library.migrationBackup).toBeNull();
    library.close();
    expect(fs.existsSync(path.join(dir, 'backups'))).toBe(false);
  });

  it('refuses a database from a newer Atelier and leaves the file byte-for-byte untouched', () => {
    const dir = libraryDir();
    openLibrary(dir).close();
    const file = path.join(dir, 'atelier.db');
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.pragma('journal_mode = DELETE');
    db.close();
    const before = sha256File(file);
    let error: unknown;
    try {
      openLibrary(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StudioError);
    expect((error as StudioError).code).toBe('DB_NEWER_THAN_APP');
    expect((error as StudioError).message).toMatch(/Update Atelier/);
    expect(sha256File(file)).toBe(before);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('reports a damaged database as DB_CORRUPT with what to do next', () => {
    const dir = libraryDir();
    fs.writeFileSync(path.join(dir, 'atelier.db'), Buffer.alloc(8192, 7));
    expect(() => openLibrary(dir)).toThrowError(expect.objectContaining({ code: 'DB_CORRUPT', message: expect.stringMatching(/backups/) }));
  });
});
