import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLibrary } from '../../../src/main/library';
import { writeLibraryAtVersion } from './helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A library exactly as schema v3 left it, with two pictures' rows (no files: the store check is skipped for them). */
function writeV3Library(): string {
  return writeLibraryAtVersion(3, dirs, (db) => {
    const insert = db.prepare(`INSERT INTO generations (id, search_rowid, kind, model, prompt, params, rating, created_at) VALUES (?, ?, 'image', 'sd', ?, '{}', ?, ?)`);
    insert.run('g1', 1, 'a lighthouse', 3, 1000);
    insert.run('g2', 2, 'a harbour', 5, 2000);
  });
}

function unit(values: number[]): Float32Array {
  const n = Math.hypot(...values);
  return Float32Array.from(values.map((v) => v / n));
}

describe('migration 004: vectors for search by meaning, and prompt adherence', () => {
  it('v3 generations come through unscored and unindexed, with everything else kept', () => {
    const library = openLibrary(writeV3Library());
    expect(library.openedFromVersion).toBe(3);
    expect(library.getGeneration('g1')).toMatchObject({ prompt: 'a lighthouse', rating: 3, adherence: null });
    expect(library.listGenerations({ sort: 'adherence' }).items.map((g) => g.id)).toEqual(['g2', 'g1']);
    expect(library.searchGenerations({ query: 'harbour' }).items.map((h) => h.generation.id)).toEqual(['g2']);
    library.close();
  });

  it('stores a vector once per model, scores sort first, and a purged generation takes its vectors along', () => {
    const dir = writeV3Library();
    let library = openLibrary(dir);
    expect(library.insertEmbeddings('clip', [{ generationId: 'g1', vector: unit([1, 0, 0, 0.1]), adherence: 31.5 }])).toBe(1);
    // A second index run (after a crash) adds nothing for an item that has its vector.
    expect(library.insertEmbeddings('clip', [{ generationId: 'g1', vector: unit([0, 1, 0, 0.1]) }, { generationId: 'g2', vector: unit([0, 1, 0, 0.1]) }])).toBe(1);
    expect(library.insertEmbeddings('clip', [{ generationId: 'missing', vector: unit([1, 1, 1, 1]) }])).toBe(0);
    library.close();
    library = openLibrary(dir);
    expect(Array.from(library.findEmbedding('clip', 'g1')!)).toEqual(Array.from(unit([1, 0, 0, 0.1])));
    expect(library.getGeneration('g1').adherence).toEqual({ score: 31.5, model: 'clip' });
    expect(library.listGenerations({ sort: 'adherence' }).items.map((g) => g.id)).toEqual(['g1', 'g2']);
    const hits = library.searchByVector('clip', unit([0, 1, 0, 0.1]), { k: 2 });
    expect(hits.map((h) => h.id)).toEqual(['g2', 'g1']);
    expect(hits[0]!.similarity).toBeCloseTo(1, 5);
    library.softDeleteGenerations(['g2']);
    expect(library.searchByVector('clip', unit([0, 1, 0, 0.1]), { k: 2 }).map((h) => h.id)).toEqual(['g1']);
    library.purgeDeleted();
    expect(library.countIndexed('clip', 'image')).toEqual({ indexed: 0, total: 0 });
    expect(library.findEmbedding('clip', 'g2')).toBeNull();
    library.close();
  });

  it('refuses a vector whose bytes do not match its dimension', () => {
    const dir = writeV3Library();
    openLibrary(dir).close();
    const db = new Database(path.join(dir, 'atelier.db'));
    expect(() => db.prepare(`INSERT INTO embeddings (model, generation_id, dim, vector, bits, created_at) VALUES ('m', 'g1', 4, zeroblob(12), zeroblob(1), 0)`).run()).toThrow(/CHECK/);
    db.close();
  });
});
