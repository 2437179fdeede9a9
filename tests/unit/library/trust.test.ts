import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLibrary, restoreFrom, undoRestore, type Library } from '../../../src/main/library';
import { QUARANTINE_EXPIRY_MS } from '../../../src/main/library/quarantine';
import { rebuildLibrary } from '../../../src/main/library/recovery';
import { pngWithText } from '../../integration/helpers/library-io-fixtures';
import { createTestLibrary, dumpGenerations, sha256File, storeHashes, tempDir, type TestLibrary } from './helpers';

let t: TestLibrary;
beforeEach(() => {
  t = createTestLibrary();
});
afterEach(() => t.cleanup());

/** 200 generations of all three kinds, with remix chains, ratings, favourites, notes, tags and some in the trash. */
async function seed200(library: Library, scratch: TestLibrary['scratch']): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = (['image', 'music', 'text'] as const)[i % 3];
    const files =
      kind === 'image'
        ? [
            { sourcePath: scratch(`p${i}.png`, `png-${i}`), mime: 'image/png', role: 'image', width: 64 + i, height: 32 },
            { sourcePath: scratch(`t${i}.webp`, `webp-${i}`), mime: 'image/webp', role: 'thumbnail', width: 16, height: 8 },
          ]
        : kind === 'music'
          ? [
              { sourcePath: scratch(`m${i}.wav`, `wav-${i}`), mime: 'audio/wav', role: 'audio', durationMs: 1000 + i },
              { sourcePath: scratch(`k${i}.json`, `[${i}]`), mime: 'application/json', role: 'peaks' },
            ]
          : [{ sourcePath: scratch(`x${i}.txt`, `text-${i}`), mime: 'text/plain; charset=utf-8', role: 'text' }];
    const g = await library.commitGeneration({
      kind,
      model: `model-${kind}`,
      modelDigest: i % 2 ? `digest-${i}` : null,
      prompt: `prompt ${i} — "quoted" & ünïcode`,
      negativePrompt: i % 4 ? '' : 'blurry',
      seed: i % 7 ? i * 1000 : null,
      params: { steps: i % 30, guidance: 7.5, nested: { a: [1, 2, i] } },
      // Every fifth generation remixes the one before it: chains of lineage.
      parentId: i % 5 && ids.length ? ids[ids.length - 1] : null,
      provider: i % 3 ? 'cpu' : 'cuda',
      providerNote: i % 9 ? null : 'CUDA was not available',
      timings: { totalMs: i * 3, tokens: i },
      outputText: kind === 'text' ? `generated text ${i}` : null,
      files,
    });
    ids.push(g.id);
    if (i % 3 === 0) library.rateGeneration(g.id, i % 6);
    if (i % 4 === 0) library.setFavourite(g.id, true);
    if (i % 10 === 0) library.setGenerationNotes(g.id, `note ${i}`);
    if (i % 2 === 0) library.tagGeneration(g.id, { add: ['even', `t${i % 5}`] });
  }
  library.softDeleteGenerations(ids.filter((_, i) => i % 17 === 0));
  return ids;
}

describe('a library that cannot lose work', () => {
  it('keeps every file when the database is moved aside, deleted or overwritten, and rebuilds all 200 generations field by field', async () => {
    const ids = await seed200(t.library, t.scratch);
    t.library.close();
    const original = dumpGenerations(t.dir);
    const files = storeHashes(t.dir);
    expect(original.generations).toHaveLength(200);
    expect(original.generations.filter((g) => (g as { parent_id: string | null }).parent_id !== null).length).toBeGreaterThan(100);
    expect(Object.keys(files)).toHaveLength(67 * 2 + 67 * 2 + 66); // pictures and music have two files each, texts one

    for (const damage of ['moved aside', 'deleted', 'overwritten with garbage'] as const) {
      const dir = path.join(tempDir('atelier-trust-'), 'library');
      fs.cpSync(t.dir, dir, { recursive: true });
      const db = path.join(dir, 'atelier.db');
      if (damage === 'moved aside') fs.renameSync(db, path.join(dir, 'atelier.db.old'));
      if (damage === 'deleted') fs.rmSync(db);
      if (damage === 'overwritten with garbage') fs.writeFileSync(db, Buffer.alloc(64 * 1024, 0x5a));

      if (damage === 'overwritten with garbage') {
        expect(() => openLibrary(dir), damage).toThrow(expect.objectContaining({ code: 'DB_CORRUPT' }));
      } else {
        // Start twice: once on the new database, once on the (still empty) one it made.
        openLibrary(dir).close();
        openLibrary(dir).close();
      }
      expect(storeHashes(dir), `${damage}: no file removed or changed`).toEqual(files);

      const rebuilt = await rebuildLibrary(dir);
      expect(rebuilt.ids, damage).toHaveLength(200);
      expect(rebuilt.missingFiles).toEqual([]);
      expect(dumpGenerations(dir), damage).toEqual(original);
      if (damage !== 'deleted') expect(rebuilt.setAside, damage).toMatch(/backups[/\\]atelier-before-rebuild-/);

      const reopened = openLibrary(dir);
      try {
        expect(reopened.sweptAtOpen).toMatchObject({ quarantinedFiles: 0 });
        expect(reopened.listAncestors(ids[4]!).map((g) => g.id)).toEqual(ids.slice(0, 4).reverse());
        expect(reopened.searchGenerations({ query: 'even' }).items.length).toBeGreaterThan(0);
      } finally {
        reopened.close();
      }
      expect(storeHashes(dir)).toEqual(files);
    }
  });

  it('rebuilds pictures that have no record (a library from before records) from their own PNG metadata', async () => {
    const infotext = 'a lighthouse at dusk\nNegative prompt: fog\nSteps: 12, Sampler: Euler, CFG scale: 6, Seed: 42, Size: 16x16, Model: painter';
    const png = t.scratch('old.png', await pngWithText({ parameters: infotext }, 3));
    const g = await t.library.commitGeneration({ kind: 'image', model: 'painter', prompt: 'a lighthouse at dusk', files: [{ sourcePath: png, mime: 'image/png', role: 'image' }] });
    t.library.close();
    fs.rmSync(path.join(t.dir, 'records'), { recursive: true });
    fs.rmSync(path.join(t.dir, 'atelier.db'));

    const rebuilt = await rebuildLibrary(t.dir);
    expect(rebuilt.ids).toEqual([]);
    expect(rebuilt.pictures).toHaveLength(1);
    const library = t.reopen();
    const back = library.getGeneration(rebuilt.pictures[0]!);
    expect(back).toMatchObject({ prompt: 'a lighthouse at dusk', negativePrompt: 'fog', seed: 42 });
    expect(back.assets[0]!.sha256).toBe(g.assets[0]!.sha256);
  });

  it('moves files the database does not name to quarantine, brings them back when it names them again, and expires them after 30 days', async () => {
    const kept = await t.library.commitGeneration({ kind: 'image', model: 'm', files: [{ sourcePath: t.scratch('a.png', 'kept'), mime: 'image/png', role: 'image' }] });
    const gone = await t.library.commitGeneration({ kind: 'image', model: 'm', files: [{ sourcePath: t.scratch('b.png', 'gone'), mime: 'image/png', role: 'image' }] });
    const keptBackup = path.join(t.base, 'kept.db');
    t.library.close();
    // A database that names only one of the two (as an older copy of it would).
    const db = new Database(path.join(t.dir, 'atelier.db'));
    db.prepare('DELETE FROM generations WHERE id = ?').run(gone.id);
    db.close();
    fs.copyFileSync(path.join(t.dir, 'atelier.db'), keptBackup);

    const library = t.reopen();
    expect(library.sweptAtOpen).toMatchObject({ quarantinedFiles: 2 }); // the picture and its record
    const summary = library.quarantineSummary();
    expect(summary).toMatchObject({ files: 2, records: 1 });
    expect(library.resolveAsset(kept.assets[0]!.id)).not.toBeNull();

    // "Rebuild from these" brings the generation back with its file.
    const report = library.recoverFromRecords();
    expect(report.ids).toEqual([gone.id]);
    expect(sha256File(library.resolveAsset(gone.assets[0]!.id)!.path)).toBe(gone.assets[0]!.sha256);
    expect(library.quarantineSummary().files).toBe(0);

    // Set aside again, then let 30 days pass: only then does the quarantine empty itself.
    library.close();
    fs.copyFileSync(keptBackup, path.join(t.dir, 'atelier.db'));
    for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(t.dir, `atelier.db${suffix}`), { force: true });
    t.reopen();
    expect(t.library.quarantineSummary().files).toBe(2);
    t.clock.now += QUARANTINE_EXPIRY_MS - 60_000;
    t.reopen();
    expect(t.library.quarantineSummary().files).toBe(2);
    t.clock.now += 120_000;
    t.reopen();
    expect(t.library.quarantineSummary().files).toBe(0);
  });

  it('undoes a restore: rows and file hashes are as before the restore', async () => {
    const first = await t.library.commitGeneration({ kind: 'image', model: 'm', prompt: 'in the backup', files: [{ sourcePath: t.scratch('a.png', 'a'), mime: 'image/png', role: 'image' }] });
    const backup = path.join(t.base, 'backup.db');
    await t.library.backupTo(backup);
    // After the backup: more work, a rating, a tag.
    const later = await t.library.commitGeneration({ kind: 'music', model: 'm', prompt: 'after the backup', files: [{ sourcePath: t.scratch('b.wav', 'b'), mime: 'audio/wav', role: 'audio' }] });
    t.library.rateGeneration(first.id, 4);
    t.library.tagGeneration(later.id, { add: ['new'] });
    t.library.close();
    const before = dumpGenerations(t.dir);
    const files = storeHashes(t.dir);

    restoreFrom(backup, t.dir);
    // Two opens: the first leaves the files alone (just restored), the second quarantines what the backup does not name.
    t.reopen();
    expect(t.library.sweptAtOpen.skipped).toBe('the database was just restored');
    expect(t.library.findGeneration(later.id)).toBeNull();
    t.reopen();
    expect(t.library.sweptAtOpen.quarantinedFiles).toBeGreaterThan(0);
    t.library.close();

    undoRestore(t.dir);
    t.reopen();
    expect(t.library.sweptAtOpen.returnedFiles).toBe(1);
    t.library.close();
    expect(dumpGenerations(t.dir)).toEqual(before);
    expect(storeHashes(t.dir)).toEqual(files);
    t.reopen();
  });

  it('lets one process own a library folder and names the owner to anyone else', () => {
    expect(() => openLibrary(t.dir, { owner: { kind: 'command line', detail: 'atelier generate image' } })).toThrow(
      expect.objectContaining({ code: 'LIBRARY_IN_USE', message: expect.stringContaining(`process ${process.pid}`) }),
    );
    t.library.close();
    const again = openLibrary(t.dir);
    again.close();
    t.reopen();
  });

  it('claims each queued job exactly once, highest priority first', () => {
    const jobs = [0, 5, 0, -1, 5].map((priority) => t.library.insertJob({ kind: 'text', params: { prompt: String(priority) }, priority }));
    const claimed: string[] = [];
    for (let job = t.library.claimNextJob(); job; job = t.library.claimNextJob()) {
      expect(job.state).toBe('running');
      claimed.push(job.id);
    }
    expect(claimed).toEqual([jobs[1]!.id, jobs[4]!.id, jobs[0]!.id, jobs[2]!.id, jobs[3]!.id]);
    expect(t.library.claimNextJob()).toBeNull();
  });
});
