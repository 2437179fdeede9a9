import { execFile } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLibrary } from '../../src/main/library';
import type { Studio } from '../../src/main/studio';
import type { Generation } from '../../src/shared/contract';
import { call, closeAndRemove, commitColour, commitTone, type Hits } from './helpers/meaning-fixtures';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

/** Tones whose prompts name no pitch: only the audio says which is low. */
const TONES: [string, number][] = [
  ['alpha', 110],
  ['bravo', 880],
  ['charlie', 5000],
  ['delta', 82],
  ['echo', 1200],
  ['foxtrot', 150],
  ['golf', 7000],
];
const LOW = ['alpha', 'delta', 'foxtrot'];
const HIGH = ['charlie', 'golf'];

describe('search by meaning for music with the oracle CLAP', () => {
  let fx: Awaited<ReturnType<typeof allFixtures>>;
  let studio: Studio;
  let dataDir: string;
  const by: Record<string, Generation> = {};
  const names = (hits: Hits): string[] => hits.items.map((h) => Object.keys(by).find((n) => by[n]!.id === h.generation.id) ?? h.generation.id);

  beforeAll(async () => {
    fx = await allFixtures();
    dataDir = tempDataDir('atelier-meaning-music-');
    studio = await openStudio(dataDir);
    const scratch = path.join(dataDir, 'scratch');
    for (const [name, hz] of TONES) by[name] = await commitTone(studio.library, scratch, name, hz);
    by.red = await commitColour(studio.library, scratch, 'red', [250, 10, 10]);
    await studio.meaning.chooseModel(fx.embedClipOracle);
    await studio.meaning.chooseModel(fx.embedClapOracle);
    await studio.meaning.idle();
  });

  afterAll(() => closeAndRemove(studio, dataDir));

  it('a CLAP model is chosen for music and indexes every piece once', () => {
    const status = studio.meaning.status();
    expect(status.error).toBeNull();
    expect(status.kinds.find((k) => k.kind === 'music')).toEqual({ kind: 'music', model: fx.embedClapOracle, indexed: TONES.length, total: TONES.length });
    expect(status.kinds.find((k) => k.kind === 'image')).toMatchObject({ model: fx.embedClipOracle, indexed: 1 });
    const ids = TONES.map(([name]) => by[name]!.id);
    expect(studio.library.listEmbeddings(fx.embedClapOracle, ids).size).toBe(TONES.length);
  });

  it('"a deep bass drone" finds the low pieces first, across every kind', async () => {
    const result = await call<Hits>(studio, 'library.searchMeaning', { query: 'a deep bass drone', words: false, limit: 8 });
    expect(names(result).slice(0, 3).sort()).toEqual(LOW);
    expect(result.items[0]!.similarity).toBeGreaterThan(0.95);
    const high = await call<Hits>(studio, 'library.searchMeaning', { query: 'high', kind: 'music', limit: 3 });
    expect(names(high).slice(0, 2).sort()).toEqual(HIGH);
    expect(high.items.every((h) => h.generation.kind === 'music')).toBe(true);
  });

  it('"More like this" on a low piece returns the other low pieces first, never itself, only music', async () => {
    const result = await call<Hits>(studio, 'library.similar', { id: by.alpha!.id, limit: 6 });
    expect(names(result)).not.toContain('alpha');
    expect(names(result).slice(0, 2).sort()).toEqual(['delta', 'foxtrot']);
    expect(result.items.every((h) => h.generation.kind === 'music')).toBe(true);
  });

  it('diversity of music: the low pieces are alike, a mixed set is not', async () => {
    const lows = await call<{ diversity: number }>(studio, 'library.diversity', { ids: LOW.map((n) => by[n]!.id) });
    const mixed = await call<{ diversity: number }>(studio, 'library.diversity', { ids: ['alpha', 'bravo', 'charlie'].map((n) => by[n]!.id) });
    expect(lows.diversity).toBeLessThan(0.01);
    expect(mixed.diversity).toBeGreaterThan(1);
  });

  it('refuses a picture model for music and a music model for pictures, saying which model is needed', async () => {
    await expect(studio.meaning.chooseModel(fx.embedClipOracle, 'music')).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/needs a CLAP model/) });
    await expect(studio.meaning.chooseModel(fx.embedClapOracle, 'image')).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/needs a CLIP model/) });
    expect(studio.meaning.modelFor('music')?.model).toBe(fx.embedClapOracle);
  });

  it('scores how closely each piece follows its prompt with CLAP, as pictures are with CLIP', async () => {
    const scratch = path.join(dataDir, 'scratch');
    const low = await commitTone(studio.library, scratch, 'india', 100, 'a deep bass drone');
    const high = await commitTone(studio.library, scratch, 'juliet', 6000, 'a deep bass drone');
    const unprompted = await commitTone(studio.library, scratch, 'kilo', 100, '');
    studio.meaning.start();
    await studio.meaning.idle();
    expect(studio.meaning.status().error).toBeNull();
    const lowScore = studio.library.getGeneration(low.id).adherence;
    const highScore = studio.library.getGeneration(high.id).adherence;
    expect(lowScore?.model).toBe(fx.embedClapOracle);
    expect(highScore?.model).toBe(fx.embedClapOracle);
    // The low drone follows "a deep bass drone"; the high whine under the same prompt does not.
    expect(lowScore!.score).toBeGreaterThan(90);
    expect(highScore!.score).toBeLessThan(lowScore!.score - 50);
    expect(studio.library.getGeneration(unprompted.id).adherence).toBeNull();
    expect(studio.library.findEmbedding(fx.embedClapOracle, unprompted.id)).not.toBeNull();
    // Sorting by adherence puts the music that follows its prompt first.
    const sorted = await call<{ items: Generation[] }>(studio, 'library.list', { kind: 'music', sort: 'adherence', limit: 2 });
    expect(sorted.items[0]!.id).toBe(low.id);
  });

  it('scores music that was indexed before music had a score, keeping its vectors', async () => {
    const ids = TONES.map(([name]) => by[name]!.id);
    const scores = ids.map((id) => studio.library.getGeneration(id).adherence);
    expect(scores.every((a) => a?.model === fx.embedClapOracle)).toBe(true);
    const vectorsBefore = studio.library.listEmbeddings(fx.embedClapOracle, ids);
    // As a library indexed by the version before looks: vectors, no scores.
    const db = new Database(path.join(dataDir, 'library', 'atelier.db'));
    db.prepare(`UPDATE generations SET adherence = NULL, adherence_model = NULL WHERE id IN (${ids.map(() => '?').join(',')})`).run(...ids);
    db.close();
    expect(studio.library.getGeneration(ids[0]!).adherence).toBeNull();
    studio.meaning.start();
    await studio.meaning.idle();
    expect(studio.meaning.status().error).toBeNull();
    expect(ids.map((id) => studio.library.getGeneration(id).adherence)).toEqual(scores);
    const vectorsAfter = studio.library.listEmbeddings(fx.embedClapOracle, ids);
    for (const id of ids) expect(Array.from(vectorsAfter.get(id)!)).toEqual(Array.from(vectorsBefore.get(id)!));
  });

  it('a piece that is not WAV is skipped with its reason, and the pieces after it are still indexed', async () => {
    const scratch = path.join(dataDir, 'scratch');
    const mp3 = path.join(scratch, 'imported.mp3');
    fs.writeFileSync(mp3, Buffer.from('ID3 this is not a wav file'));
    const bad = await studio.library.commitGeneration({ kind: 'music', model: 'imported', prompt: 'an mp3', files: [{ sourcePath: mp3, mime: 'audio/mpeg', role: 'audio' }] });
    const good = await commitTone(studio.library, scratch, 'hotel', 95);
    studio.meaning.start();
    await studio.meaning.idle();
    const status = studio.meaning.status();
    expect(status.error).toBeNull();
    expect(status.skipped).toEqual([{ id: bad.id, reason: 'The music to index is not a WAV file.' }]);
    expect(studio.library.findEmbedding(fx.embedClapOracle, good.id)).not.toBeNull();
    // Nothing was deleted: the file is still in the library.
    expect(studio.library.getGeneration(bad.id).assets).toHaveLength(1);
  });
});

describe('atelier library search --meaning and similar, for music', () => {
  const run = promisify(execFile);
  const ROOT = path.resolve(__dirname, '../..');
  const atelier = async (args: string[]): Promise<string> =>
    (await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })).stdout;

  it('indexes music with a CLAP model, then "low" lists the low pieces and similar stays with low ones', async () => {
    const fx = await allFixtures();
    const dataDir = tempDataDir('atelier-cli-music-');
    const library = openLibrary(path.join(dataDir, 'library'));
    const by: Record<string, string> = {};
    for (const [name, hz] of TONES) by[name] = (await commitTone(library, path.join(dataDir, 'scratch'), name, hz)).id;
    library.close();
    const index = JSON.parse(await atelier(['library', 'index', '--library', dataDir, '--model', fx.embedClapOracle, '--quiet', '--json'])) as { kinds: { kind: string; indexed: number }[] };
    expect(index.kinds.find((k) => k.kind === 'music')?.indexed).toBe(TONES.length);
    const found = JSON.parse(await atelier(['library', 'search', 'low', '--meaning', '--kind', 'music', '--library', dataDir, '--json'])) as Hits;
    const nameOf = (id: string): string | undefined => Object.keys(by).find((n) => by[n] === id);
    expect(found.items.slice(0, 3).map((h) => nameOf(h.generation.id)).sort()).toEqual(LOW);
    const human = await atelier(['library', 'similar', by.delta!, '--library', dataDir, '--limit', '2']);
    expect(human.split('\n').filter(Boolean).map((line) => nameOf(line.split(/\s+/)[0]!)).sort()).toEqual(['alpha', 'foxtrot']);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
