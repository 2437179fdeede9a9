import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BundledUpscaler } from '../../shared/upscale';

/**
 * Where a bundled model's TF.js files are: inside its npm package in node_modules. The packages
 * export only their JavaScript entry points (not package.json), so the folder is found by walking
 * Node's module search paths from `from` (this file's folder by default; the project root in tests).
 */
export function bundledUpscalerDir(model: BundledUpscaler, from: string = __dirname): string | null {
  const candidates = require.resolve.paths(model.packageName) ?? [];
  let dir = path.resolve(from);
  for (;;) {
    candidates.push(path.join(dir, 'node_modules'));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const base of candidates) {
    const folder = path.join(base, model.packageName, model.folder);
    if (existsSync(path.join(folder, 'model.json'))) return folder;
  }
  return null;
}
