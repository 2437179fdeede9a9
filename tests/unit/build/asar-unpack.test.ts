import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { globToRegExp } from '../../../src/main/models/glob';

/**
 * A packaged app keeps its code in an asar archive, from which the operating system cannot load a
 * native module or the shared libraries beside it. Every such file of a production dependency
 * must match one of electron-builder's `asarUnpack` rules (package.json "build").
 */

const ROOT = path.resolve(__dirname, '../../..');
const NATIVE = /\.node$|\.so(\.\d+)*$|\.dylib$|\.dll$/;

interface BuildConfig {
  asarUnpack: string[];
}

function unpackRules(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { build?: BuildConfig };
  return pkg.build?.asarUnpack ?? [];
}

/** Native files (modules and the libraries they load) of every production dependency, relative to the root. */
function nativeFiles(): string[] {
  // npm ls exits 1 for peer dependencies left out on purpose (.npmrc legacy-peer-deps: the esrgan
  // packages' unused @tensorflow/tfjs peer); the tree it prints is still the installed one.
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' });
  if (!listed.stdout.trim()) throw new Error(`npm ls printed no packages: ${listed.stderr}`);
  const dirs = listed.stdout
    .split('\n')
    .filter((dir) => dir && path.resolve(dir) !== ROOT);
  const files = new Set<string>();
  for (const dir of dirs) {
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !NATIVE.test(entry.name)) continue;
      const full = path.join(entry.parentPath, entry.name);
      // A nested package is listed on its own; build intermediates are not shipped code.
      const inside = path.relative(dir, full).split(path.sep);
      if (inside.includes('node_modules') || inside.includes('obj.target') || /^test_/.test(entry.name)) continue;
      files.add(path.relative(ROOT, full).split(path.sep).join('/'));
    }
  }
  return [...files].sort();
}

function covered(file: string, rules: string[]): boolean {
  return rules.some((rule) => globToRegExp(rule).test(file));
}

describe('packaged app: native modules outside the asar', () => {
  const rules = unpackRules();
  const files = nativeFiles();

  it('finds the native modules the app loads (better-sqlite3, onnxruntime-node, sharp)', () => {
    expect(files.some((f) => f.startsWith('node_modules/better-sqlite3/') && f.endsWith('.node'))).toBe(true);
    expect(files.some((f) => f.startsWith('node_modules/onnxruntime-node/') && f.endsWith('.node'))).toBe(true);
    expect(files.some((f) => /^node_modules\/onnxruntime-node\/.*libonnxruntime\.so/.test(f))).toBe(true);
    expect(files.some((f) => f.startsWith('node_modules/@img/') && f.endsWith('.node'))).toBe(true);
  });

  it('unpacks every one of them', () => {
    expect(files.filter((file) => !covered(file, rules))).toEqual([]);
  });

  it('has no rule it could do without: dropping any one leaves a native file inside the asar', () => {
    for (const rule of rules) {
      const others = rules.filter((r) => r !== rule);
      expect(files.filter((file) => !covered(file, others)), `without "${rule}"`).not.toEqual([]);
    }
  });
});
