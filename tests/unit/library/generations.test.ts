import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Generation } from '../../../src/shared/contract';
import type { CommitGenerationInput } from '../../../src/main/library';
import { createTestLibrary, sha256, sha256File, type TestLibrary } from './helpers';

let t: TestLibrary;
beforeEach(() => {
  t = createTestLibrary();
});
afterEach(() => t.cleanup());

let counter = 0;
async function commit(overrides: Partial<CommitGenerationInput> = {}, content?: string): Promise<Generation> {
  const body = content ?? `image-${counter++}`;
  return t.library.commitGeneration({
    kind: 'image',
    model: 'sd-turbo',
    prompt: 'a cat',
    files: [{ sourcePath: t.scratch(`${counter++}.png`, body), mime: 'image/png', role: 'image', width: 64, height: 64 }],
    ...overrides,
  });
}

function storeFiles(): string[] {
  const root = path.join(t.dir, 'files');
  return fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('commitGeneration', () => {
  it('stores each file under files/ab/cd/<sha256>.<ext> and returns the generation with its assets', async () => {
    const g = await commit({ seed: 42, params: { steps: 4 }, timings: { totalMs: 12 }, provider: 'cpu' }, 'pixels');
    expect(g).toMatchObject({ kind: 'image', model: 'sd-turbo', seed: 42, params: { steps: 4 }, timings: { totalMs: 12 }, provider: 'cpu', rating: 0, favourite: false });
    const [asset] = g.assets;
    expect(asset).toMatchObject({ sha256: sha256('pixels'), mime: 'image/png', bytes: 6, width: 64, height: 64 });
    const hash = sha256('pixels');
    const file = path.join(t.dir, 'files', hash.slice(0, 2), hash.slice(2, 4), `${hash}.png`);
    expect(sha256File(file)).toBe(hash);
    expect(fs.readdirSync(path.join(t.dir, 'tmp'))).toEqual([]);
    expect(t.library.getGeneration(g.id)).toEqual(g);
  });

  it('stores identical outputs once', async () => {
    await commit({}, 'same');
    await commit({}, 'same');
    expect(storeFiles()).toHaveLength(1);
  });

  it('commits no row when the parent generation does not exist', async () => {
    await expect(commit({ parentId: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(t.library.listGenerations({}).total).toBe(0);
  });

  it('getGeneration of an unknown id is NOT_FOUND', () => {
    expect(() => t.library.getGeneration('nope')).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('follows remix lineage both ways', async () => {
    const a = await commit();
    const b = await commit({ parentId: a.id });
    const c = await commit({ parentId: b.id });
    expect(t.library.listChildren(a.id).map((g) => g.id)).toEqual([b.id]);
    expect(t.library.listAncestors(c.id).map((g) => g.id)).toEqual([b.id, a.id]);
  });
});

describe('listGenerations', () => {
  it('pages through every row exactly once in each sort order, even when timestamps tie', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      if (i % 4 === 0) t.clock.now -= 1; // ties on created_at
      const g = await commit({ prompt: `p${i}` });
      t.library.rateGeneration(g.id, i % 6);
      ids.push(g.id);
    }
    for (const sort of ['newest', 'oldest', 'rating'] as const) {
      const seen: Generation[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = t.library.listGenerations({ sort, limit: 5, cursor });
        expect(page.total).toBe(23);
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(5);
      expect(new Set(seen.map((g) => g.id)).size).toBe(23);
      const key = (g: Generation) => (sort === 'rating' ? [g.rating, g.createdAt, g.id] : [g.createdAt, g.id]);
      const sorted = [...seen].sort((x, y) => {
        const [a, b] = [key(x), key(y)];
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
        return 0;
      });
      expect(seen.map((g) => g.id)).toEqual(sort === 'oldest' ? sorted.map((g) => g.id) : sorted.reverse().map((g) => g.id));
    }
  });

  it('filters by kind, model, tag, minimum rating, favourite and trash', async () => {
    const a = await commit({ kind: 'image', model: 'm1' });
    const b = await commit({ kind: 'music', model: 'm2', files: [] });
    const c = await commit({ kind: 'text', model: 'm1', outputText: 'hello', files: [] });
    t.library.tagGeneration(a.id, { add: ['Sky'] });
    t.library.rateGeneration(b.id, 4);
    t.library.setFavourite(c.id, true);
    const ids = (query: Parameters<typeof t.library.listGenerations>[0]) => t.library.listGenerations(query).items.map((g) => g.id).sort();
    expect(ids({ kind: 'music' })).toEqual([b.id]);
    expect(ids({ model: 'm1' })).toEqual([a.id, c.id].sort());
    expect(ids({ tag: 'sky' })).toEqual([a.id]);
    expect(ids({ minRating: 3 })).toEqual([b.id]);
    expect(ids({ favourite: true })).toEqual([c.id]);
    expect(ids({ favourite: false })).toEqual([a.id, b.id].sort());
    t.library.softDeleteGenerations([a.id]);
    expect(ids({})).toEqual([b.id, c.id].sort());
    expect(ids({ trash: true })).toEqual([a.id]);
  });

  it('lists a collection in pages, combined with the other filters, without the items outside it', async () => {
    const inside: Generation[] = [];
    for (let i = 0; i < 7; i++) inside.push(await commit({ kind: i % 2 ? 'music' : 'image', files: [] }));
    const outside = await commit({ files: [] });
    const board = t.library.createCollection('Board');
    const other = t.library.createCollection('Other');
    t.library.addToCollection(board.id, inside.map((g) => g.id));
    t.library.addToCollection(other.id, [outside.id]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = t.library.listGenerations({ collectionId: board.id, limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.total).toBe(7);
      seen.push(...page.items.map((g) => g.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(inside.map((g) => g.id).sort());
    expect(t.library.listGenerations({ collectionId: board.id, kind: 'music' }).total).toBe(3);
    t.library.softDeleteGenerations([inside[0]!.id]);
    expect(t.library.listGenerations({ collectionId: board.id }).total).toBe(6);
    expect(t.library.listGenerations({ collectionId: board.id, trash: true }).items.map((g) => g.id)).toEqual([inside[0]!.id]);
    expect(t.library.listGenerations({ collectionId: 'no-such-board' }).total).toBe(0);
  });

  it('lists every matching id in sort order for "select all", and says when it stopped at the cap', async () => {
    const made: Generation[] = [];
    for (let i = 0; i < 5; i++) made.push(await commit({ kind: i < 3 ? 'image' : 'music', files: [] }));
    t.library.rateGeneration(made[4]!.id, 5);
    expect(t.library.listGenerationIds({ kind: 'image' })).toEqual({ ids: made.slice(0, 3).map((g) => g.id).reverse(), truncated: false });
    expect(t.library.listGenerationIds({ sort: 'rating' }).ids[0]).toBe(made[4]!.id);
    expect(t.library.listGenerationIds({}).ids).toEqual(t.library.listGenerations({ limit: 500 }).items.map((g) => g.id));
    expect(t.library.listGenerationIds({}, 2)).toEqual({ ids: made.slice(3).map((g) => g.id).reverse(), truncated: true });
  });

  it('rejects a forged cursor with INVALID_INPUT', () => {
    expect(() => t.library.listGenerations({ cursor: 'garbage' })).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('walks an index in every sort order instead of sorting the table (fast at 100k rows)', () => {
    const db = new Database(path.join(t.dir, 'atelier.db'), { readonly: true });
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    for (const order of ['created_at DESC, id DESC', 'created_at ASC, id ASC', 'rating DESC, created_at DESC, id DESC']) {
      const detail = plan(`SELECT id FROM generations g WHERE g.deleted_at IS NULL ORDER BY ${order} LIMIT 60`);
      expect(detail).not.toMatch(/TEMP B-TREE/);
      expect(detail).toMatch(/USING INDEX/);
    }
    expect(plan(`SELECT id FROM generations g WHERE g.deleted_at IS NULL AND g.kind = 'image' ORDER BY created_at DESC, id DESC LIMIT 60`)).not.toMatch(/TEMP B-TREE/);
    expect(plan(`SELECT id FROM generations g WHERE g.deleted_at IS NULL AND g.kind = 'image' ORDER BY rating DESC, created_at DESC, id DESC LIMIT 60`)).not.toMatch(/TEMP B-TREE/);
    db.close();
  });
});

describe('searchGenerations', () => {
  it('finds prompts, negative prompts, outputs, notes and tags, with <mark> snippets and escaped HTML', async () => {
    const a = await commit({ prompt: 'a <b>lighthouse</b> in the fog' });
    const b = await commit({ kind: 'text', negativePrompt: 'blurry', outputText: 'The keeper climbed the stairs', files: [] });
    t.library.tagGeneration(b.id, { add: ['maritime'] });
    t.library.setGenerationNotes(a.id, 'for the cover');
    const hit = t.library.searchGenerations({ query: 'lighthouse' }).items;
    expect(hit.map((h) => h.generation.id)).toEqual([a.id]);
    expect(hit[0]!.snippet).toBe('a &lt;b&gt;<mark>lighthouse</mark>&lt;/b&gt; in the fog');
    expect(t.library.searchGenerations({ query: 'keeper' }).items.map((h) => h.generation.id)).toEqual([b.id]);
    expect(t.library.searchGenerations({ query: 'blurry' }).items.map((h) => h.generation.id)).toEqual([b.id]);
    expect(t.library.searchGenerations({ query: 'maritime' }).items.map((h) => h.generation.id)).toEqual([b.id]);
    expect(t.library.searchGenerations({ query: 'cover' }).items.map((h) => h.generation.id)).toEqual([a.id]);
    expect(t.library.searchGenerations({ query: 'keeper', kind: 'image' }).items).toEqual([]);
    // Prefix match on the last word, so results appear while typing.
    expect(t.library.searchGenerations({ query: 'lightho' }).items).toHaveLength(1);
    t.library.tagGeneration(b.id, { remove: ['maritime'] });
    expect(t.library.searchGenerations({ query: 'maritime' }).items).toEqual([]);
    t.library.softDeleteGenerations([a.id]);
    expect(t.library.searchGenerations({ query: 'lighthouse' }).items).toEqual([]);
  });

  it('treats quotes, operators, column filters and unicode as plain text', async () => {
    const g = await commit({ prompt: 'café "noir" NEAR the sea: AND then OR not — 東京 naïve' });
    const weird = ['"', '""', 'AND', 'OR NOT', 'NEAR(', 'prompt:café', '*', '^sea', '(noir', 'noir"', 'sea:', '東京', 'cafe', 'NAIVE', '-', '{a b}', "o'brien", '\\', '\u0000'];
    for (const query of weird) {
      expect(() => t.library.searchGenerations({ query }), query).not.toThrow();
    }
    const ids = (query: string) => t.library.searchGenerations({ query }).items.map((h) => h.generation.id);
    expect(ids('"noir"')).toEqual([g.id]);
    expect(ids('AND')).toEqual([g.id]);
    expect(ids('NEAR the')).toEqual([g.id]);
    expect(ids('東京')).toEqual([g.id]);
    expect(ids('cafe')).toEqual([g.id]); // diacritics folded
    expect(ids('NAIVE')).toEqual([g.id]);
    expect(ids('prompt:café')).toEqual([]); // not a column filter: the phrase "prompt café" is absent
    expect(ids('"')).toEqual([]);
  });
});

describe('ratings, tags, trash and purge', () => {
  it('rates, favourites and tags a generation', async () => {
    const g = await commit();
    expect(t.library.rateGeneration(g.id, 5).rating).toBe(5);
    expect(() => t.library.rateGeneration(g.id, 6)).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(t.library.setFavourite(g.id, true).favourite).toBe(true);
    expect(t.library.tagGeneration(g.id, { add: ['  night  sky ', 'Blue', 'blue'] }).tags).toEqual(['Blue', 'night sky']);
    expect(t.library.tagGeneration(g.id, { remove: ['BLUE'] }).tags).toEqual(['night sky']);
    expect(t.library.listTags()).toEqual([
      { name: 'night sky', count: 1 },
      { name: 'Blue', count: 0 },
    ]);
  });

  it('tags and untags many generations in one call, skipping unknown ids, and search finds the tag', async () => {
    const a = await commit({ prompt: 'one' });
    const b = await commit({ prompt: 'two' });
    const c = await commit({ prompt: 'three' });
    t.library.tagGeneration(a.id, { add: ['Coast'] });
    expect(t.library.tagGenerations([a.id, b.id, 'missing'], { add: ['coast', ' keeper '] })).toEqual({ count: 2, added: ['Coast', 'keeper'] });
    expect(t.library.getGeneration(a.id).tags).toEqual(['Coast', 'keeper']);
    expect(t.library.getGeneration(b.id).tags).toEqual(['Coast', 'keeper']);
    expect(t.library.getGeneration(c.id).tags).toEqual([]);
    expect(t.library.searchGenerations({ query: 'keeper' }).items.map((hit) => hit.generation.id).sort()).toEqual([a.id, b.id].sort());
    expect(t.library.tagGenerations([a.id, b.id], { remove: ['KEEPER'] }).count).toBe(2);
    expect(t.library.getGeneration(b.id).tags).toEqual(['Coast']);
    expect(() => t.library.tagGenerations([a.id], { add: ['x'.repeat(65)] })).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(t.library.getGeneration(a.id).tags).toEqual(['Coast']);
  });

  it('trash and restore change only what they should and report counts', async () => {
    const a = await commit();
    const b = await commit();
    expect(t.library.softDeleteGenerations([a.id, b.id, 'unknown'])).toBe(2);
    expect(t.library.softDeleteGenerations([a.id])).toBe(0);
    expect(t.library.getGeneration(a.id).deletedAt).not.toBeNull();
    expect(t.library.restoreGenerations([a.id])).toBe(1);
    expect(t.library.getGeneration(a.id).deletedAt).toBeNull();
    expect(t.library.listGenerations({}).items.map((g) => g.id)).toEqual([a.id]);
  });

  it('purge removes trashed rows and only the files nothing else references', async () => {
    const keep = await commit({}, 'shared-bytes');
    const gone = await commit({}, 'shared-bytes');
    const alone = await commit({}, 'only-mine');
    const child = await commit({ parentId: gone.id });
    t.library.softDeleteGenerations([gone.id, alone.id]);
    const report = t.library.purgeDeleted();
    expect(report).toMatchObject({ generations: 2, files: 1, bytesFreed: 'only-mine'.length });
    expect(t.library.findGeneration(gone.id)).toBeNull();
    expect(t.library.getGeneration(child.id).parentId).toBeNull();
    expect(t.library.resolveAsset(alone.assets[0]!.id)).toBeNull();
    expect(fs.existsSync(t.library.resolveAsset(keep.assets[0]!.id)!.path)).toBe(true);
    expect(storeFiles().map((f) => path.basename(f)).sort()).toEqual([`${sha256('shared-bytes')}.png`, `${child.assets[0]!.sha256}.png`].sort());
  });
});

describe('resolveAsset', () => {
  it('returns a path inside files/ for an asset id, and null for unknown ids', async () => {
    const g = await commit({}, 'x');
    const resolved = t.library.resolveAsset(g.assets[0]!.id)!;
    expect(resolved.path.startsWith(path.join(t.dir, 'files') + path.sep)).toBe(true);
    expect(resolved).toMatchObject({ mime: 'image/png', bytes: 1 });
    expect(t.library.resolveAsset('../../etc/passwd')).toBeNull();
  });

  it('refuses rows whose stored name would escape the store', async () => {
    const g = await commit();
    t.library.close();
    const db = new Database(path.join(t.dir, 'atelier.db'));
    db.prepare(`UPDATE assets SET ext = '/../../../../etc/passwd' WHERE id = ?`).run(g.assets[0]!.id);
    db.close();
    const library = t.reopen();
    expect(library.resolveAsset(g.assets[0]!.id)).toBeNull();
  });
});

describe('sweepOrphans', () => {
  it('moves unreferenced files in files/ to quarantine, removes stale files in tmp/, keeps referenced ones', async () => {
    const g = await commit({}, 'kept');
    const orphanHash = sha256('orphan');
    const orphan = path.join(t.dir, 'files', orphanHash.slice(0, 2), orphanHash.slice(2, 4), `${orphanHash}.png`);
    fs.mkdirSync(path.dirname(orphan), { recursive: true });
    fs.writeFileSync(orphan, 'orphan');
    fs.writeFileSync(path.join(t.dir, 'files', 'stray.txt'), 'junk');
    fs.writeFileSync(path.join(t.dir, 'tmp', 'half-written.part'), 'half');
    const report = t.library.sweepOrphans();
    expect(report).toMatchObject({ quarantinedFiles: 2, removedTmpFiles: 1 });
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.readFileSync(path.join(t.dir, 'quarantine', path.relative(t.dir, orphan)), 'utf8')).toBe('orphan');
    expect(fs.readFileSync(path.join(t.dir, 'quarantine', 'files', 'stray.txt'), 'utf8')).toBe('junk');
    expect(fs.readdirSync(path.join(t.dir, 'tmp'))).toEqual([]);
    expect(storeFiles()).toEqual([t.library.resolveAsset(g.assets[0]!.id)!.path]);
  });

  it('runs when the library opens', () => {
    fs.writeFileSync(path.join(t.dir, 'tmp', 'left-by-a-crash.part'), 'x');
    const library = t.reopen();
    expect(library.sweptAtOpen.removedTmpFiles).toBe(1);
  });

  it('never deletes the file of a commit that is still in flight', async () => {
    const pending = commit({}, 'in-flight');
    // Sweep on every tick while the commit hashes, renames and inserts.
    let sweeps = 0;
    let done = false;
    void pending.finally(() => (done = true));
    while (!done) {
      t.library.sweepOrphans();
      sweeps++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const g = await pending;
    expect(sweeps).toBeGreaterThan(1);
    expect(sha256File(t.library.resolveAsset(g.assets[0]!.id)!.path)).toBe(sha256('in-flight'));
  });
});

describe('inpainting masks', () => {
  it('keeps mask items out of the grid and search unless asked for by model', async () => {
    const picture = await commit({ prompt: 'a harbour' }, 'picture');
    const mask = await commit({ model: 'mask', prompt: 'Inpainting mask harbour' }, 'mask');
    expect(t.library.listGenerations().items.map((g) => g.id)).toEqual([picture.id]);
    expect(t.library.listGenerationIds().ids).toEqual([picture.id]);
    expect(t.library.searchGenerations({ query: 'harbour' }).items.map((h) => h.generation.id)).toEqual([picture.id]);
    expect(t.library.listGenerations({ model: 'mask' }).items.map((g) => g.id)).toEqual([mask.id]);
    expect(t.library.findGeneration(mask.id)).not.toBeNull();
  });
});
