import { execFile, spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { openLibrary } from '../../src/main/library';
import { commitColour } from './helpers/meaning-fixtures';
import { allFixtures, tempDataDir } from './helpers/studio-fixtures';

const ROOT = path.resolve(__dirname, '../..');
const CLI = ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts')];
const PICTURES = 120;
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function vectorCounts(libraryDir: string, model: string): { rows: number; distinct: number; ids: string[] } {
  const db = new Database(path.join(libraryDir, 'atelier.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT count(*) AS n, count(DISTINCT generation_id) AS d FROM embeddings WHERE model = ?').get(model) as { n: number; d: number };
    const ids = (db.prepare('SELECT generation_id FROM embeddings WHERE model = ? ORDER BY generation_id').all(model) as { generation_id: string }[]).map((r) => r.generation_id);
    return { rows: rows.n, distinct: rows.d, ids };
  } finally {
    db.close();
  }
}

/** Starts `atelier library index`, and SIGKILLs it as soon as it reports its first committed batch. */
function indexUntilFirstBatchThenKill(dataDir: string, model: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'library', 'index', '--library', dataDir, '--model', model], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (/^indexed image \d+\/\d+$/m.test(stderr)) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(stderr) : reject(new Error(`the index ended by itself (code ${code}) before the kill: ${stderr}`))));
  });
}

it('killing the index mid-way and starting again finishes with every picture indexed exactly once', async () => {
  const fx = await allFixtures();
  const dataDir = tempDataDir('atelier-meaning-kill-');
  dirs.push(dataDir);
  const libraryDir = path.join(dataDir, 'library');
  const library = openLibrary(libraryDir);
  const ids: string[] = [];
  for (let n = 0; n < PICTURES; n++) {
    const g = await commitColour(library, path.join(dataDir, 'scratch'), `p${n}`, [(n * 37) % 256, (n * 91) % 256, (n * 53) % 256]);
    ids.push(g.id);
  }
  library.close();

  const firstRun = await indexUntilFirstBatchThenKill(dataDir, fx.embedClipOracle);
  const afterKill = vectorCounts(libraryDir, fx.embedClipOracle);
  // At least the batch it reported is committed; whatever else landed is whole rows, once each.
  const reported = Number(/indexed image (\d+)\//.exec(firstRun)![1]);
  expect(afterKill.rows).toBeGreaterThanOrEqual(reported);
  expect(afterKill.rows).toBe(afterKill.distinct);

  const { stdout, stderr } = await promisify(execFile)(process.execPath, [...CLI, 'library', 'index', '--library', dataDir, '--json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const status = JSON.parse(stdout) as { kinds: { kind: string; model: string | null; indexed: number; total: number }[]; error: unknown };
  expect(status.error).toBeNull();
  expect(status.kinds.find((k) => k.kind === 'image')).toEqual({ kind: 'image', model: fx.embedClipOracle, indexed: PICTURES, total: PICTURES });
  // The second run went on from what the first had committed: its progress never counts from zero.
  const progress = [...stderr.matchAll(/indexed image (\d+)\/(\d+)/g)].map((m) => Number(m[1]));
  expect(progress.every((n) => n > afterKill.rows)).toBe(true);
  const final = vectorCounts(libraryDir, fx.embedClipOracle);
  expect(final.rows).toBe(PICTURES);
  expect(final.ids).toEqual([...ids].sort());
});
