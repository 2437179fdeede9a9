import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openLibrary } from '../../src/main/library';
import { ModelManager, type DownloadState } from '../../src/main/models/manager';
import { startFakeHub, type FakeHub } from './helpers/fake-hub';

const ROOT = path.resolve(__dirname, '../..');
const CHILD = path.join(ROOT, 'tests/unit/models/fixtures/pull-child.ts');
const REPO = 'acme/killable';
const ID = 'acme--killable@main';

let hub: FakeHub | undefined;
let tmp: string | undefined;

afterEach(async () => {
  await hub?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it('finishes a download after the process was killed mid-file, with the right bytes', async () => {
  const weights = randomBytes(4 * 1024 * 1024);
  const config = Buffer.from('{"model_type":"llama"}');
  hub = await startFakeHub({ [REPO]: { files: [{ path: 'config.json', content: config }, { path: 'onnx/model.onnx', content: weights }] } });
  hub.faults.bytesPerSecond = 2 * 1024 * 1024;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'atelier-kill-'));
  const modelsDir = path.join(tmp, 'models');
  const libraryDir = path.join(tmp, 'library');
  const partial = path.join(modelsDir, '.downloads', ID, 'files', 'onnx', 'model.onnx.partial');

  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, hub.endpoint, modelsDir, libraryDir, REPO], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const until = Date.now() + 30_000;
  while (!(existsSync(partial) && statSync(partial).size > 1_000_000)) {
    if (Date.now() > until) throw new Error(`the child never got going: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const keptBytes = statSync(partial).size;
  expect(keptBytes).toBeLessThan(weights.length);

  hub.faults.bytesPerSecond = undefined;
  const library = openLibrary(libraryDir);
  try {
    const states: DownloadState[] = [];
    const manager = new ModelManager({
      modelsDir,
      library,
      validate: async (dir) => ({ kind: 'text', ok: existsSync(path.join(dir, 'config.json')), problems: [], files: [], totalBytes: 0 }),
      hub: { endpoint: hub.endpoint },
      onProgress: (s) => states.push(s),
    });
    expect(await manager.resumePending()).toEqual([ID]);
    const record = await manager.wait(ID);
    expect(record).toMatchObject({ id: ID, kind: 'text', bytes: weights.length + config.length });
    const installed = readFileSync(path.join(modelsDir, ID, 'onnx/model.onnx'));
    expect(createHash('sha256').update(installed).digest('hex')).toBe(createHash('sha256').update(weights).digest('hex'));
    // The second process asked only for the rest of the file.
    const resumed = hub.requests.filter((r) => r.server === 'cdn' && r.headers.range);
    expect(resumed.length).toBe(1);
    expect(Number(resumed[0]!.headers.range!.match(/bytes=(\d+)-/)![1])).toBeGreaterThanOrEqual(1_000_000);
    expect(resumed[0]!.status).toBe(206);
    expect(states.find((s) => s.status === 'downloading')!.bytesDone).toBeGreaterThanOrEqual(1_000_000);
    expect((await manager.verify(ID)).ok).toBe(true);
  } finally {
    library.close();
  }
});
