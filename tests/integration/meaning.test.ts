import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Generation } from '../../src/shared/contract';
import type { Studio } from '../../src/main/studio';
import { exportGenerations } from '../../src/main/library-io/export';
import { call, closeAndRemove, commitColour, type Hits } from './helpers/meaning-fixtures';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

describe('search by meaning with the oracle CLIP and sentence embedder', () => {
  let fx: Awaited<ReturnType<typeof allFixtures>>;
  let studio: Studio;
  let dataDir: string;
  const by: Record<string, Generation> = {};

  beforeAll(async () => {
    fx = await allFixtures();
    dataDir = tempDataDir('atelier-meaning-');
    studio = await openStudio(dataDir);
    const scratch = path.join(dataDir, 'scratch');
    const colours: [string, [number, number, number]][] = [
      ['red1', [250, 10, 10]],
      ['blue1', [10, 20, 240]],
      ['green1', [20, 230, 30]],
      ['red2', [200, 30, 20]],
      ['blue2', [30, 60, 200]],
      ['yellow1', [240, 230, 20]],
      ['red3', [230, 0, 40]],
      ['blue3', [0, 0, 160]],
    ];
    for (const [name, rgb] of colours) by[name] = await commitColour(studio.library, scratch, name, rgb);
    // A batch made from one prompt, whose pictures follow it more or less.
    for (const [name, rgb] of [
      ['apple-red', [255, 0, 0]],
      ['apple-orange', [255, 128, 0]],
      ['apple-purple', [200, 0, 200]],
      ['apple-blue', [0, 0, 255]],
    ] as [string, [number, number, number]][]) {
      by[name] = await commitColour(studio.library, scratch, name, rgb, 'a red apple');
    }
    // The apples were made together: one job's batch, as the queue records it.
    const job = studio.library.insertJob({ kind: 'image', params: { prompt: 'a red apple', model: 'tiny' } });
    studio.library.updateJob(job.id, { state: 'done', generationIds: ['apple-red', 'apple-orange', 'apple-purple', 'apple-blue'].map((n) => by[n]!.id) });
    await studio.meaning.chooseModel(fx.embedClipOracle);
    await studio.meaning.idle();
  });

  afterAll(() => closeAndRemove(studio, dataDir));

  it('indexes every picture once, tagged with the model', () => {
    const status = studio.meaning.status();
    expect(status.error).toBeNull();
    expect(status.kinds.find((k) => k.kind === 'image')).toEqual({ kind: 'image', model: fx.embedClipOracle, indexed: 12, total: 12 });
  });

  it('"red" finds the red pictures first, though no prompt says red', async () => {
    const result = await call<Hits>(studio, 'library.searchMeaning', { query: 'red', words: false, limit: 5 });
    const top = result.items.slice(0, 3).map((h) => h.generation.id);
    // apple-red is pure red as well: the four reddest pictures lead, the blue ones are last.
    expect(new Set(result.items.slice(0, 4).map((h) => h.generation.id))).toEqual(new Set([by.red1!.id, by.red2!.id, by.red3!.id, by['apple-red']!.id]));
    expect(top.every((id) => ![by.blue1!.id, by.blue2!.id, by.blue3!.id].includes(id))).toBe(true);
    expect(result.items[0]!.similarity).toBeGreaterThan(0.95);
    const sims = result.items.map((h) => h.similarity!);
    expect(sims).toEqual([...sims].sort((a, b) => b - a));
  });

  it('merges words and meaning: a prompt word match is marked, the picture match carries its similarity', async () => {
    const result = await call<Hits>(studio, 'library.searchMeaning', { query: 'blue', limit: 12 });
    const apple = result.items.find((h) => h.generation.id === by['apple-blue']!.id);
    expect(apple?.words).toBe(false);
    expect(result.items.slice(0, 4).map((h) => h.generation.id)).toContain(by.blue1!.id);
    const words = await call<Hits>(studio, 'library.searchMeaning', { query: 'apple', limit: 12 });
    expect(words.items.filter((h) => h.words).map((h) => h.generation.id).sort()).toEqual(['apple-red', 'apple-orange', 'apple-purple', 'apple-blue'].map((n) => by[n]!.id).sort());
  });

  it('"More like this" on a blue picture returns the blue ones first, never itself', async () => {
    const result = await call<Hits>(studio, 'library.similar', { id: by.blue1!.id, limit: 4 });
    const ids = result.items.map((h) => h.generation.id);
    expect(ids).not.toContain(by.blue1!.id);
    expect(new Set(ids.slice(0, 3))).toEqual(new Set([by.blue2!.id, by.blue3!.id, by['apple-blue']!.id]));
  });

  it('prompt adherence (CLIPScore) orders a batch, is sortable and is written into the records and exports', async () => {
    const scores = ['apple-red', 'apple-orange', 'apple-purple', 'apple-blue'].map((n) => studio.library.getGeneration(by[n]!.id).adherence!.score);
    expect(scores[0]).toBeCloseTo(100 * 0.9972, 0); // cos(red, red + constant) by construction
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(scores[1]).toBeGreaterThan(scores[3]!);
    expect(scores[2]).toBeGreaterThan(scores[3]!);
    expect(scores[3]).toBe(0); // blue points away from red: max(cos, 0)
    // Neutral prompts ("picture red1") name no colour: the oracle finds them unrelated.
    const page = studio.library.listGenerations({ sort: 'adherence', limit: 2 });
    expect(page.items[0]!.id).toBe(by['apple-red']!.id);
    const recordFile = path.join(dataDir, 'library', 'records', by['apple-red']!.id.slice(-2).toLowerCase(), `${by['apple-red']!.id}.json`);
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { generation: { adherence?: { score: number; model: string } } };
    expect(record.generation.adherence).toEqual({ score: scores[0], model: fx.embedClipOracle });
    const exported = await exportGenerations(studio.library, [by['apple-red']!.id, by.red1!.id], path.join(dataDir, 'export'));
    const manifest = JSON.parse(fs.readFileSync(exported.manifest, 'utf8')) as { items: { id: string; adherence?: { score: number } }[] };
    expect(manifest.items.find((i) => i.id === by['apple-red']!.id)?.adherence?.score).toBe(scores[0]);
    // "picture red1" names no colour: only the oracle's constant component is shared.
    expect(manifest.items.find((i) => i.id === by.red1!.id)?.adherence?.score).toBeLessThan(scores[0]! / 10);
  });

  it('batch diversity: three blues are closer together than a mixed batch', async () => {
    const blues = await call<{ diversity: number }>(studio, 'library.diversity', { ids: [by.blue1!.id, by.blue2!.id, by.blue3!.id] });
    const mixed = await call<{ diversity: number }>(studio, 'library.diversity', { ids: [by.red1!.id, by.blue1!.id, by.green1!.id] });
    expect(blues.diversity).toBeLessThan(0.05);
    expect(mixed.diversity).toBeGreaterThan(1);
  });

  it("a batch's diversity is written onto each of its items, their records and exports", async () => {
    const apples = ['apple-red', 'apple-orange', 'apple-purple', 'apple-blue'].map((n) => by[n]!.id);
    const measured = await call<{ diversity: number }>(studio, 'library.diversity', { ids: apples });
    // Red, orange, purple and blue: far from alike, and the value is the one Compare shows.
    expect(measured.diversity).toBeGreaterThan(0.5);
    for (const id of apples) {
      const stored = studio.library.getGeneration(id).batchDiversity;
      expect(stored).toEqual({ value: expect.closeTo(measured.diversity, 6), model: fx.embedClipOracle, count: 4 });
      const recordFile = path.join(dataDir, 'library', 'records', id.slice(-2).toLowerCase(), `${id}.json`);
      expect((JSON.parse(fs.readFileSync(recordFile, 'utf8')) as { generation: Generation }).generation.batchDiversity).toEqual(stored);
    }
    // Pictures made alone carry none.
    expect(studio.library.getGeneration(by.red1!.id).batchDiversity).toBeNull();
    const exported = await exportGenerations(studio.library, [apples[0]!], path.join(dataDir, 'export-batch'));
    const manifest = JSON.parse(fs.readFileSync(exported.manifest, 'utf8')) as { items: { id: string; batchDiversity?: unknown }[] };
    expect(manifest.items[0]!.batchDiversity).toEqual(studio.library.getGeneration(apples[0]!).batchDiversity);
  });

  it('indexes a new generation as it is committed by a job', async () => {
    const job = studio.queue.enqueue({
      kind: 'image',
      params: { model: fx.images.imageOracle, prompt: 'a harbour', width: 64, height: 64, steps: 4, scheduler: 'ddim', seed: 3, batch: 1 },
    });
    const done = await studio.queue.waitFor(job.id);
    expect(done.state).toBe('done');
    await studio.meaning.idle();
    const id = done.generationIds[0]!;
    expect(studio.library.findEmbedding(fx.embedClipOracle, id)).not.toBeNull();
    expect(studio.meaning.status().kinds.find((k) => k.kind === 'image')).toMatchObject({ indexed: 13, total: 13 });
  });

  it('texts are searched with the sentence embedder, and changing a model re-indexes', async () => {
    for (const text of ['The sea was blue and calm.', 'A green field at noon.', 'Grass, green grass, and a green cat.']) {
      await studio.library.commitGeneration({ kind: 'text', model: 'tiny-gpt', prompt: 'write', params: {}, outputText: text });
    }
    await studio.meaning.chooseModel(fx.embedTextOracle);
    await studio.meaning.idle();
    expect(studio.meaning.status().kinds.find((k) => k.kind === 'text')).toMatchObject({ model: fx.embedTextOracle, indexed: 3, total: 3 });
    const result = await call<Hits>(studio, 'library.searchMeaning', { query: 'green', kind: 'text', words: false, limit: 3 });
    expect(result.items.slice(0, 2).map((h) => h.generation.outputText).sort()).toEqual(['A green field at noon.', 'Grass, green grass, and a green cat.']);
    // CLIP embeds text too: choosing it for texts replaces the sentence embedder's vectors.
    await studio.meaning.chooseModel(fx.embedClipOracle, 'text');
    await studio.meaning.idle();
    const texts = studio.library.listGenerations({ kind: 'text' }).items.map((g) => g.id);
    expect(studio.library.listEmbeddings(fx.embedTextOracle, texts).size).toBe(0);
    expect(studio.library.listEmbeddings(fx.embedClipOracle, texts).size).toBe(3);
  });

  it('"More like this" on a picture the index has not reached yet indexes it first', async () => {
    // Committed straight into the library: no job, so no library.changed and no background indexing.
    const fresh = await commitColour(studio.library, path.join(dataDir, 'scratch'), 'navy-late', [0, 0, 120]);
    expect(studio.library.findEmbedding(fx.embedClipOracle, fresh.id)).toBeNull();
    const result = await call<Hits>(studio, 'library.similar', { id: fresh.id, limit: 3 });
    expect(studio.library.findEmbedding(fx.embedClipOracle, fresh.id)).not.toBeNull();
    const blues = ['blue1', 'blue2', 'blue3', 'apple-blue'].map((n) => by[n]!.id);
    expect(result.items).toHaveLength(3);
    // The nearest is a blue picture, and nothing red, green or yellow comes close (the job's harbour picture may).
    expect(blues).toContain(result.items[0]!.generation.id);
    const others = ['red1', 'red2', 'red3', 'green1', 'yellow1', 'apple-red', 'apple-orange', 'apple-purple'].map((n) => by[n]!.id);
    expect(result.items.filter((h) => others.includes(h.generation.id))).toEqual([]);
  });

  it('a picture that cannot be read is skipped, and the pictures after it are still indexed', async () => {
    const scratch = path.join(dataDir, 'scratch');
    const broken = path.join(scratch, 'broken.png');
    fs.writeFileSync(broken, 'not a picture at all');
    const bad = await studio.library.commitGeneration({ kind: 'image', model: 'tiny-sd', prompt: 'broken', files: [{ sourcePath: broken, mime: 'image/png', role: 'image' }] });
    const good = await commitColour(studio.library, scratch, 'late-green', [0, 200, 0]);
    studio.meaning.start();
    await studio.meaning.idle();
    const status = studio.meaning.status();
    expect(status.error).toBeNull();
    expect(status.skipped.map((s) => s.id)).toEqual([bad.id]);
    expect(studio.library.findEmbedding(fx.embedClipOracle, good.id)).not.toBeNull();
    expect(studio.library.findEmbedding(fx.embedClipOracle, bad.id)).toBeNull();
  });
});

describe('the index in the Queue: pause and resume', () => {
  it('a paused index stays paused across a restart, and resuming indexes every item exactly once', async () => {
    const fx = await allFixtures();
    const dir = tempDataDir('atelier-meaning-pause-');
    try {
      let studio = await openStudio(dir, 'browser');
      const scratch = path.join(dir, 'scratch');
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) ids.push((await commitColour(studio.library, scratch, `p${n}`, [n * 50, 100, 200 - n * 40])).id);
      studio.meaning.setPaused(true);
      await studio.meaning.chooseModel(fx.embedClipOracle);
      await studio.meaning.idle();
      expect(studio.meaning.status()).toMatchObject({ paused: true, running: false, kinds: expect.arrayContaining([{ kind: 'image', model: fx.embedClipOracle, indexed: 0, total: 5 }]) });
      await studio.close();

      // Started again (browser mode starts the index by itself): still paused, still nothing indexed.
      studio = await openStudio(dir, 'browser');
      await studio.meaning.idle();
      expect(studio.meaning.status()).toMatchObject({ paused: true, running: false, kinds: expect.arrayContaining([{ kind: 'image', model: fx.embedClipOracle, indexed: 0, total: 5 }]) });
      studio.meaning.setPaused(false);
      await studio.meaning.idle();
      expect(studio.meaning.status()).toMatchObject({ paused: false, error: null, kinds: expect.arrayContaining([{ kind: 'image', model: fx.embedClipOracle, indexed: 5, total: 5 }]) });
      expect([...studio.library.listEmbeddings(fx.embedClipOracle, ids).keys()].sort()).toEqual([...ids].sort());
      await studio.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
