import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensureImageFixtures } from '../../scripts/fixtures/image';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const BUILT = path.join(ROOT, 'out', 'main', 'cli.js');

/**
 * The bundle is not the source: the bundler moves shared modules into out/main/chunks/, so paths
 * made from __dirname move with them (the catalog was once looked for in out/resources). These run
 * the built CLI the way `atelier` and the desktop app run it. `npm test` builds first; run alone
 * without out/ they report skipped.
 */
describe.skipIf(!existsSync(BUILT))('the built command line (out/main/cli.js, needs npm run build)', () => {
  it('finds its catalog and version, and runs an image model in the built engine', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'atelier-built-'));
    try {
      const env = { ...process.env, ATELIER_HOME: home };
      const info = JSON.parse((await run(process.execPath, [BUILT, 'info', '--json'], { env, cwd: os.tmpdir() })).stdout) as { version: string };
      expect(info.version).toBe((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      const list = await run(process.execPath, [BUILT, 'models', 'list', '--json'], { env, cwd: os.tmpdir() });
      expect(JSON.parse(list.stdout)).toEqual({ items: [] });
      const fx = await ensureImageFixtures();
      const out = path.join(home, 'picture.png');
      const generated = await run(process.execPath, [BUILT, 'generate', 'image', '--model', fx.imageOracle, '--prompt', 'a lighthouse', '--steps', '2', '--width', '64', '--height', '64', '--seed', '3', '--out', out, '--json'], {
        env,
        cwd: os.tmpdir(),
        maxBuffer: 16 * 1024 * 1024,
      });
      expect(JSON.parse(generated.stdout)).toMatchObject({ seed: 3, provider: 'cpu' });
      expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
