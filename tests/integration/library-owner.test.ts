import Database from 'better-sqlite3';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { acquireLibraryLock, openLibrary } from '../../src/main/library';
import { dataLayout } from '../../src/main/paths';
import type { Studio } from '../../src/main/studio';
import { JobRequest } from '../../src/shared/params';
import { allFixtures, openStudio, tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'src/main/cli/index.ts');

type Fixtures = Awaited<ReturnType<typeof allFixtures>>;

async function atelier(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const imageJob = (fx: Fixtures, seed: number) =>
  JobRequest.parse({ kind: 'image', params: { model: fx.images.imageOracle, prompt: `queued ${seed}`, steps: 3, width: 64, height: 64, seed } });

describe('one owner per library folder', () => {
  let fx: Fixtures;
  beforeAll(async () => {
    fx = await allFixtures();
  });

  it('serve runs its queue of 5 jobs exactly once while a CLI generate hands its job over to it; reading commands work beside it; a SIGKILL frees the folder at once', async () => {
    const dataDir = tempDataDir('atelier-owner-');
    const { libraryDir, stagingDir } = dataLayout(dataDir);
    // A library with five queued jobs and one earlier picture: serve picks the queue up as it starts.
    const seeded = openLibrary(libraryDir);
    const scratch = path.join(dataDir, 'earlier.png');
    fs.writeFileSync(scratch, 'an earlier picture');
    await seeded.commitGeneration({ kind: 'image', model: 'import', prompt: 'earlier', files: [{ sourcePath: scratch, mime: 'image/png', role: 'image' }] });
    const jobIds = [1, 2, 3, 4, 5].map((seed) => {
      const request = imageJob(fx, seed);
      return seeded.insertJob({ kind: request.kind, params: request.params }).id;
    });
    seeded.close();
    const before = filesUnder(path.join(libraryDir, 'files'));

    const serve = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--json', '--library', dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => serve.once('exit', () => resolve()));
    let handedId = '';
    try {
      await new Promise<string>((resolve, reject) => {
        createInterface({ input: serve.stdout }).once('line', resolve);
        serve.once('exit', (code) => reject(new Error(`atelier serve exited with ${code}`)));
      });

      // A CLI generation hands its job to serve (through its local endpoint) and prints serve's progress.
      const handed = await atelier(['generate', 'image', '--json', '--library', dataDir, '--model', fx.images.imageOracle, '--prompt', 'from the CLI', '--steps', '2', '--width', '64', '--height', '64', '--seed', '3', '--out', path.join(dataDir, 'cli.png')]);
      expect(handed.code, handed.stderr).toBe(0);
      expect(handed.stderr).toContain(`The library is open in Atelier's browser mode (atelier serve) (process ${serve.pid}): the job runs there.`);
      expect(handed.stderr).toMatch(/^step \d+\/\d+/m);
      expect(fs.readFileSync(path.join(dataDir, 'cli.png')).subarray(1, 4).toString()).toBe('PNG');
      handedId = (JSON.parse(handed.stdout) as { generationId: string }).generationId;

      // Restoring a backup under a running app would swap its database: refused the same way.
      fs.writeFileSync(path.join(dataDir, 'any-backup.tar'), 'not a backup');
      const restoring = await atelier(['library', 'restore', path.join(dataDir, 'any-backup.tar'), '--library', dataDir]);
      expect(restoring.stderr).toMatch(/in use by Atelier's browser mode .*\[LIBRARY_IN_USE\]/s);

      // Reading works beside the owner, through a read-only connection.
      const listed = await atelier(['library', 'list', '--json', '--library', dataDir]);
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { items: { prompt: string }[] }).items.map((g) => g.prompt)).toContain('earlier');

      // Wait for serve to finish its queue (read-only, beside it).
      await vi.waitFor(
        () => {
          const reader = new Database(path.join(libraryDir, 'atelier.db'), { readonly: true });
          try {
            const states = reader.prepare(`SELECT state FROM jobs`).all() as { state: string }[];
            expect(states.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done', 'done', 'done']);
          } finally {
            reader.close();
          }
        },
        { timeout: 120_000, interval: 250 },
      );
    } finally {
      serve.kill('SIGKILL');
      await exited;
    }
    // The kernel dropped the lock with the process: the very next attempt gets it.
    acquireLibraryLock(libraryDir, { kind: 'command line', detail: 'the test' }).release();

    const library = openLibrary(libraryDir);
    try {
      const jobs = jobIds.map((id) => library.getJob(id));
      expect(jobs.map((j) => j.generationIds.length)).toEqual([1, 1, 1, 1, 1]);
      const prompts = library.listGenerations({ limit: 100 }).items.map((g) => g.prompt);
      expect(prompts.sort()).toEqual(['earlier', 'from the CLI', 'queued 1', 'queued 2', 'queued 3', 'queued 4', 'queued 5']);
      expect(library.getGeneration(handedId).prompt).toBe('from the CLI');
    } finally {
      library.close();
    }
    const after = filesUnder(path.join(libraryDir, 'files'));
    for (const file of before) expect(after).toContain(file);
    expect(filesUnder(stagingDir)).toEqual([]);
  }, 300_000);

  it('a CLI generate is refused, naming the holder, when the owner has no endpoint to hand over to', async () => {
    const dataDir = tempDataDir('atelier-refused-');
    const lock = acquireLibraryLock(dataLayout(dataDir).libraryDir, { kind: 'command line', detail: 'atelier library rebuild' });
    try {
      const refused = await atelier(['generate', 'image', '--library', dataDir, '--model', fx.images.imageOracle, '--prompt', 'x', '--steps', '1', '--width', '64', '--height', '64', '--out', path.join(dataDir, 'x.png')]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`in use by an Atelier command (atelier library rebuild), process ${process.pid}`);
      expect(refused.stderr).toMatch(/\[LIBRARY_IN_USE\]/);
      expect(fs.existsSync(path.join(dataDir, 'x.png'))).toBe(false);
    } finally {
      lock.release();
    }
  }, 300_000);

  it('three CLI generations leave staging/ empty, and the CLI can rebuild the library from its files', async () => {
    const dataDir = tempDataDir('atelier-staging-');
    for (const seed of [1, 2, 3]) {
      const result = await atelier(['generate', 'image', '--library', dataDir, '--model', fx.images.imageOracle, '--prompt', `picture ${seed}`, '--steps', '2', '--width', '64', '--height', '64', '--seed', String(seed), '--out', path.join(dataDir, `p${seed}.png`)]);
      expect(result.code, result.stderr).toBe(0);
      expect(filesUnder(dataLayout(dataDir).stagingDir)).toEqual([]);
    }
    const { libraryDir } = dataLayout(dataDir);
    fs.renameSync(path.join(libraryDir, 'atelier.db'), path.join(dataDir, 'moved-aside.db'));
    const rebuilt = await atelier(['library', 'rebuild', '--json', '--library', dataDir]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect((JSON.parse(rebuilt.stdout) as { ids: string[] }).ids).toHaveLength(3);
    const listed = JSON.parse((await atelier(['library', 'list', '--json', '--library', dataDir])).stdout) as { items: { prompt: string }[] };
    expect(listed.items.map((g) => g.prompt).sort()).toEqual(['picture 1', 'picture 2', 'picture 3']);
  }, 300_000);

  describe('sources that are gone', () => {
    let studio: Studio;
    afterAll(async () => {
      await studio?.close();
    });

    it('fails a remix of a purged parent before the engine receives a run request, and refuses one whose parent is in the trash', async () => {
      studio = await openStudio(tempDataDir('atelier-sources-'));
      const parent = await studio.queue.waitFor(studio.queue.enqueue(imageJob(fx, 7)).id);
      const parentId = parent.generationIds[0]!;
      studio.queue.setPaused(true);
      const remix = studio.queue.enqueue({ ...imageJob(fx, 8), parentId });
      studio.library.softDeleteGenerations([parentId]);
      studio.library.purgeDeleted();
      const request = vi.spyOn(studio.engine, 'request');
      studio.queue.setPaused(false);
      const ended = await studio.queue.waitFor(remix.id);
      expect(ended.state).toBe('failed');
      expect(ended.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no longer in the library') });
      expect(request.mock.calls.filter(([body]) => body.type === 'run')).toEqual([]);

      const kept = await studio.queue.waitFor(studio.queue.enqueue(imageJob(fx, 9)).id);
      studio.library.softDeleteGenerations([kept.generationIds[0]!]);
      expect(() => studio.queue.enqueue({ ...imageJob(fx, 10), parentId: kept.generationIds[0]! })).toThrow(/in the trash/);
      const initAssetId = studio.library.getGeneration(kept.generationIds[0]!).assets[0]!.id;
      expect(() => studio.queue.enqueue(JobRequest.parse({ kind: 'image', params: { ...imageJob(fx, 11).params, initAssetId, strength: 0.5 } }))).toThrow(/init image .* in the trash/);
      // The inpainting mask is a source too: a trashed one is refused before the model runs.
      const live = await studio.queue.waitFor(studio.queue.enqueue(imageJob(fx, 12)).id);
      const liveAsset = studio.library.getGeneration(live.generationIds[0]!).assets[0]!.id;
      expect(() => studio.queue.enqueue(JobRequest.parse({ kind: 'image', params: { ...imageJob(fx, 13).params, initAssetId: liveAsset, maskAssetId: initAssetId } }))).toThrow(/inpainting mask is in the trash/);
    }, 300_000);
  });
});
