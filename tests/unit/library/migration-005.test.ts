import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openLibrary } from '../../../src/main/library';
import { readRecord, recordPath } from '../../../src/main/library/records';
import { writeLibraryAtVersion } from './helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A library exactly as schema v4 left it: two installed models, a batch of two pictures and its job. */
function writeV4Library(): string {
  return writeLibraryAtVersion(4, dirs, (db) => {
    const model = db.prepare(`INSERT INTO models (id, kind, name, path, bytes, source, digest, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    model.run('qwen', 'text', 'Qwen', '/models/qwen', 500, 'hf:onnx-community/Qwen2.5-0.5B-Instruct@main', 'abc', 10);
    model.run('sd', 'image', 'SD-Turbo', '/models/sd', 900, 'local', null, 20);
    const insert = db.prepare(`INSERT INTO generations (id, search_rowid, kind, model, prompt, params, rating, created_at, adherence, adherence_model) VALUES (?, ?, 'image', 'sd', ?, '{}', ?, ?, ?, ?)`);
    insert.run('g1', 1, 'a lighthouse', 3, 1000, 30.5, 'clip');
    insert.run('g2', 2, 'a lighthouse', 0, 1001, null, null);
    db.prepare(`INSERT INTO jobs (id, kind, params, state, generation_ids, created_at) VALUES ('j1', 'image', '{}', 'done', '["g1","g2"]', 900)`).run();
  });
}

describe('migration 005: embedding models, and batch diversity', () => {
  it('keeps every installed model as it was and accepts embedding models', () => {
    const library = openLibrary(writeV4Library());
    expect(library.openedFromVersion).toBe(4);
    expect(library.listModels().map((m) => [m.id, m.kind, m.path, m.bytes, m.source, m.digest, m.installedAt])).toEqual([
      ['sd', 'image', '/models/sd', 900, 'local', null, 20],
      ['qwen', 'text', '/models/qwen', 500, 'hf:onnx-community/Qwen2.5-0.5B-Instruct@main', 'abc', 10],
    ]);
    library.upsertModel({ id: 'clip', kind: 'embedding', name: 'CLIP', path: '/models/clip', bytes: 1, source: 'local' });
    expect(library.listModels('embedding').map((m) => m.id)).toEqual(['clip']);
    expect(library.listModels('text').map((m) => m.id)).toEqual(['qwen']);
    library.close();
  });

  it('v4 generations come through without a diversity; a batch diversity lands on each item and in its record', () => {
    const dir = writeV4Library();
    const library = openLibrary(dir);
    expect(library.getGeneration('g1')).toMatchObject({ adherence: { score: 30.5, model: 'clip' }, batchDiversity: null });
    expect(library.listBatchesOf(['g2'])).toEqual([['g1', 'g2']]);
    library.setBatchDiversity(['g1', 'g2'], { value: 0.25, model: 'clip', count: 2 });
    for (const id of ['g1', 'g2']) {
      expect(library.getGeneration(id).batchDiversity).toEqual({ value: 0.25, model: 'clip', count: 2 });
      expect(readRecord(recordPath(dir, id)!)?.generation.batchDiversity).toEqual({ value: 0.25, model: 'clip', count: 2 });
    }
    library.close();
  });

  it('refuses a diversity outside 0–2 rather than store it', () => {
    const library = openLibrary(writeV4Library());
    expect(() => library.setBatchDiversity(['g1'], { value: 2.5, model: 'clip', count: 2 })).toThrow(/CHECK constraint/);
    expect(library.getGeneration('g1').batchDiversity).toBeNull();
    library.close();
  });
});
