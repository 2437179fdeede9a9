import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appRoot } from '../../../src/main/paths';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('appRoot', () => {
  it('finds the folder with package.json and resources/ from the source tree, out/main and out/main/chunks', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'atelier-root-'));
    dirs.push(root);
    writeFileSync(path.join(root, 'package.json'), '{"name":"atelier"}');
    for (const sub of ['resources', 'src/main', 'out/main/chunks']) mkdirSync(path.join(root, sub), { recursive: true });
    for (const from of ['src/main', 'out/main', 'out/main/chunks']) expect(appRoot(path.join(root, from))).toBe(root);
  });

  it('says so when there is no installation folder above', () => {
    const lonely = mkdtempSync(path.join(os.tmpdir(), 'atelier-lonely-'));
    dirs.push(lonely);
    expect(() => appRoot(path.join(lonely, 'a/b/c/d/e/f/g'))).toThrow(/reinstall Atelier/);
  });

  it('is this checkout for the code under test', () => {
    expect(appRoot()).toBe(path.resolve(__dirname, '../../..'));
  });
});
