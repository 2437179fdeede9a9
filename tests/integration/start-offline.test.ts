import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const electronInstalled = existsSync(path.join(ROOT, 'node_modules/electron/path.txt'));

describe('npm start without the Electron binary', () => {
  // Where the binary exists (or can be downloaded) the start command opens the app instead.
  it.skipIf(electronInstalled || process.env.ATELIER_ONLINE === '1')('says plainly that Electron is missing and offers browser mode, without a stack trace', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/start.cjs')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Atelier could not start Electron');
    expect(result.stderr).toContain('npm run serve');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
