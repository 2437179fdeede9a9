import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLibrary, restoreFrom } from '../../../src/main/library';
import { createTestLibrary, sha256File, type TestLibrary } from './helpers';

let t: TestLibrary;
beforeEach(() => {
  t = createTestLibrary();
});
afterEach(() => t.cleanup());

const TABLES = ['generations', 'assets', 'tags', 'generation_tags', 'documents', 'document_versions', 'jobs', 'models', 'settings'];

function dumpRows(dir: string): Record<string, unknown[]> {
  const db = new Database(path.join(dir, 'atelier.db'), { readonly: true });
  try {
    return Object.fromEntries(TABLES.map((table) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

describe('backup and restore', () => {
  it('restoring a backup gives back identical rows and files whose hashes match', async () => {
    const g = await t.library.commitGeneration({
      kind: 'image',
      model: 'sd',
      prompt: 'original',
      files: [{ sourcePath: t.scratch('a.png', 'picture-bytes'), mime: 'image/png', role: 'image' }],
    });
    t.library.tagGeneration(g.id, { add: ['kept'] });
    const doc = t.library.createDocument({ title: 'Draft', body: 'words here' });
    t.library.snapshotDocument(doc.id, 'manual');
    t.library.insertJob({ kind: 'text', params: { prompt: 'x' } });
    t.library.setSetting('theme', 'light');
    const backupFile = path.join(t.base, 'my-backup.db');
    await t.library.backupTo(backupFile);
    t.library.close();
    const before = dumpRows(t.dir);

    // Change everything after the backup.
    const changed = openLibrary(t.dir);
    changed.rateGeneration(g.id, 5);
    changed.updateDocument(doc.id, { body: 'other' });
    changed.setSetting('theme', 'dark');
    changed.close();
    expect(dumpRows(t.dir)).not.toEqual(before);

    const result = restoreFrom(backupFile, t.dir);
    expect(result.previousCopy).toMatch(/backups[/\\]atelier-before-restore-/);
    expect(dumpRows(t.dir)).toEqual(before);
    const restored = (t.library = openLibrary(t.dir));
    expect(restored.searchGenerations({ query: 'kept' }).items.map((h) => h.generation.id)).toEqual([g.id]);
    const asset = restored.getGeneration(g.id).assets[0]!;
    expect(sha256File(restored.resolveAsset(asset.id)!.path)).toBe(asset.sha256);
    expect(restored.getSetting('theme')).toBe('light');
  });

  it('refuses a damaged or foreign backup and leaves the library as it was', () => {
    t.library.setSetting('theme', 'dark');
    t.library.close();
    const before = dumpRows(t.dir);
    const junk = path.join(t.base, 'junk.db');
    fs.writeFileSync(junk, Buffer.alloc(4096, 1));
    expect(() => restoreFrom(junk, t.dir)).toThrowError(expect.objectContaining({ code: 'DB_CORRUPT' }));
    const foreign = path.join(t.base, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE notes (x)');
    db.close();
    expect(() => restoreFrom(foreign, t.dir)).toThrowError(expect.objectContaining({ code: 'DB_CORRUPT' }));
    expect(dumpRows(t.dir)).toEqual(before);
    t.library = openLibrary(t.dir);
  });
});
