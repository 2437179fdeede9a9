import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLibrary } from '../../src/main/library';
import { backupLibrary, verifyBackup } from '../../src/main/library-io/archive-backup';
import { EXPORT_STAGING_PREFIX, exportGenerations, type ExportManifest } from '../../src/main/library-io/export';
import { readChunks } from '../../src/shared/png-chunks';
import { allGenerations, pngWithText, seedLibrary, sha256File, tempDir } from './helpers/library-io-fixtures';

const ROOT = path.resolve(__dirname, '../..');
const WORKER = path.join(ROOT, 'tests/integration/helpers/library-io-worker.ts');
const KILLS = 20;

let base: string;
let sourceDir: string;

function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** Runs the worker and SIGKILLs it `delay` ms after it says ready (or at once when it never does). */
function runUntilKilled(mode: string, libraryDir: string, target: string, delay: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, mode, libraryDir, target], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const wasReady = stdout.includes('ready\n');
      stdout += chunk;
      if (!wasReady && stdout.includes('ready\n')) setTimeout(() => child.kill('SIGKILL'), delay);
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`worker ${mode} failed (${code}): ${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

function expectLibraryHealthy(libraryDir: string): string[] {
  // openLibrary runs quick_check and migrations, and throws on a damaged database.
  const library = openLibrary(libraryDir);
  try {
    const generations = allGenerations(library);
    for (const g of generations) {
      for (const asset of g.assets) {
        const resolved = library.resolveAsset(asset.id);
        expect(resolved, `file of ${g.id}`).not.toBeNull();
        expect(sha256File(resolved!.path)).toBe(asset.sha256);
      }
    }
    return generations.map((g) => g.id).sort();
  } finally {
    library.close();
  }
}

/** Every file in an export folder outside the staging folder is complete. */
function expectNoHalfFiles(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    if (name.startsWith(EXPORT_STAGING_PREFIX)) {
      expect(fs.statSync(full).isDirectory()).toBe(true);
      continue;
    }
    expect(name.endsWith('.partial'), name).toBe(false);
    const bytes = fs.readFileSync(full);
    if (name.endsWith('.png')) expect(() => readChunks(bytes), name).not.toThrow();
    else if (name.endsWith('.wav')) expect(bytes.readUInt32LE(4), name).toBe(bytes.length - 8);
    else if (name.endsWith('.md')) expect(bytes.toString('utf8')).toMatch(/^---\n[\s\S]*\n---\n[\s\S]*\n$/);
    else if (name.endsWith('.zip')) execFileSync('python3', ['-c', 'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);assert z.testzip() is None;z.read("manifest.json")', full]);
    else if (name === 'manifest.json') {
      const manifest = JSON.parse(bytes.toString('utf8')) as ExportManifest;
      for (const item of manifest.items) expect(sha256File(path.join(dir, item.file))).toBe(item.sha256);
    } else throw new Error(`unexpected file ${name} in the export folder`);
  }
}

beforeAll(async () => {
  base = tempDir('atelier-io-crash-');
  sourceDir = path.join(base, 'source');
  const library = openLibrary(sourceDir);
  await seedLibrary(library, path.join(base, 'scratch'), 24);
  library.close();
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

describe('SIGKILL during library-io work', () => {
  it('export leaves only complete files in the target folder and a staging folder the next export removes', async () => {
    const to = path.join(base, 'export');
    for (let i = 0; i < KILLS; i++) {
      await runUntilKilled('export', sourceDir, to, randomBetween(0, 250));
      expectNoHalfFiles(to);
    }
    expectLibraryHealthy(sourceDir);
    const library = openLibrary(sourceDir);
    try {
      await exportGenerations(library, allGenerations(library).map((g) => g.id), to);
    } finally {
      library.close();
    }
    expect(fs.readdirSync(to).filter((n) => n.startsWith(EXPORT_STAGING_PREFIX))).toEqual([]);
    expectNoHalfFiles(to);
  }, 300_000);

  it('backup leaves the library intact and the backup file complete-and-valid or absent', async () => {
    const libraryDir = path.join(base, 'backup-library');
    fs.cpSync(sourceDir, libraryDir, { recursive: true });
    const ids = expectLibraryHealthy(libraryDir);
    const file = path.join(base, 'backups', 'crash.tar');
    let sawComplete = false;
    for (let i = 0; i < KILLS; i++) {
      fs.rmSync(file, { force: true });
      await runUntilKilled('backup', libraryDir, file, randomBetween(0, 300));
      if (fs.existsSync(file)) {
        sawComplete = true;
        const verified = await verifyBackup(file, path.join(base, 'verify'));
        expect(verified.generations).toBe(ids.length);
      }
      expect(expectLibraryHealthy(libraryDir)).toEqual(ids);
    }
    expect(sawComplete || KILLS < 5).toBe(true);
    const library = openLibrary(libraryDir);
    try {
      await backupLibrary(library, libraryDir, file);
    } finally {
      library.close();
    }
    expect(fs.readdirSync(path.dirname(file))).toEqual(['crash.tar']);
  }, 300_000);

  it('restore leaves either the old library or the restored one, whole', async () => {
    const backupFile = path.join(base, 'backups', 'source.tar');
    const source = openLibrary(sourceDir);
    let backupIds: string[];
    try {
      await backupLibrary(source, sourceDir, backupFile);
      backupIds = allGenerations(source).map((g) => g.id).sort();
    } finally {
      source.close();
    }
    const pristine = path.join(base, 'restore-pristine');
    const old = openLibrary(pristine);
    await seedLibrary(old, path.join(base, 'scratch-old'), 4, 300);
    old.close();
    const oldIds = expectLibraryHealthy(pristine);
    const target = path.join(base, 'restore-target');
    const outcomes = { old: 0, restored: 0 };
    for (let i = 0; i < KILLS; i++) {
      fs.rmSync(target, { recursive: true, force: true });
      fs.cpSync(pristine, target, { recursive: true });
      await runUntilKilled('restore', target, backupFile, randomBetween(0, 200));
      const ids = expectLibraryHealthy(target);
      if (JSON.stringify(ids) === JSON.stringify(oldIds)) outcomes.old++;
      else {
        expect(ids).toEqual(backupIds);
        outcomes.restored++;
      }
      expect(fs.readdirSync(path.join(target, 'tmp'))).toEqual([]);
    }
    expect(outcomes.old + outcomes.restored).toBe(KILLS);
  }, 300_000);

  it('import leaves whole items only and a rerun imports the rest without duplicates', async () => {
    const folder = path.join(base, 'to-import');
    fs.mkdirSync(folder, { recursive: true });
    const count = 30;
    for (let n = 0; n < count; n++) {
      fs.writeFileSync(path.join(folder, `${String(n).padStart(5, '0')}.png`), await pngWithText({ parameters: `picture ${n}\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: ${n}, Size: 16x16, Model: m` }, 1000 + n));
    }
    const libraryDir = path.join(base, 'import-library');
    expectLibraryHealthy(libraryDir);
    for (let i = 0; i < KILLS; i++) {
      await runUntilKilled('import', libraryDir, folder, randomBetween(0, 200));
      const ids = expectLibraryHealthy(libraryDir);
      expect(ids.length).toBeLessThanOrEqual(count);
    }
    const { stdout } = await runUntilKilled('import', libraryDir, folder, 60_000);
    expect(stdout).toMatch(/done \d+/);
    const library = openLibrary(libraryDir);
    try {
      const all = allGenerations(library);
      expect(all).toHaveLength(count);
      expect(new Set(all.map((g) => g.assets[0]!.sha256)).size).toBe(count);
      expect(new Set(all.map((g) => g.prompt)).size).toBe(count);
    } finally {
      library.close();
    }
  }, 300_000);
});
