import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Generation } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import type { LibraryReader } from '../library';
import { signExportedFile, type ExportSigning } from '../credentials/export-signing';
import { fsyncDirectory } from '../files/fsync';
import { makeStagingDir, removeStaleStaging, writeFileSynced } from './durable';
import { embedPngProvenance, embedWavProvenance, markdownWithFrontMatter, provenanceOf, type AtelierProvenance } from './provenance';
import { writeStoredZip } from './zip';

/**
 * Export: each generation's files with their provenance embedded, plus manifest.json.
 *
 * Crash safety: everything is written (and fsynced) into `<toDir>/.atelier-export-<pid>-<random>/`
 * first; then each file is renamed into `toDir`, manifest.json last, so a manifest in `toDir`
 * means every file it lists is complete. A ZIP is built inside that same staging folder as
 * `<name>.zip.partial` and renamed to `<toDir>/<name>.zip`. A kill leaves at most the staging
 * folder, which the next export (of any process) removes once its pid is gone.
 */

export const EXPORT_STAGING_PREFIX = '.atelier-export-';
export const MANIFEST_NAME = 'manifest.json';

export interface ExportOptions {
  zip?: boolean;
  /** File name of the ZIP without extension (default `atelier-export-<date>-<time>`). */
  zipName?: string;
  onProgress?: (progress: { done: number; total: number; id: string }) => void;
  /** Sign pictures (and WAV) with C2PA Content Credentials; without it files are not signed. */
  signing?: ExportSigning;
}

export interface ExportResult {
  /** Absolute paths written into toDir: the exported files, or just the ZIP. */
  files: string[];
  /** Absolute path of manifest.json, or with `zip` the entry name inside the ZIP. */
  manifest: string;
  /** Absolute path of the ZIP, when one was asked for. */
  zip?: string;
}

export interface ExportManifestItem {
  id: string;
  kind: Generation['kind'];
  model: string;
  prompt: string;
  role: string;
  mime: string;
  /** Name relative to the manifest. */
  file: string;
  sha256: string;
  bytes: number;
  created: string;
  parentId: string | null;
  /** Prompt adherence (CLIPScore, 0–100) and the model that measured it, when the picture was scored. */
  adherence?: { score: number; model: string };
  /** Diversity of the batch the item was made in (mean pairwise cosine distance, 0 = all alike), when measured. */
  batchDiversity?: { value: number; model: string; count: number };
}

export interface ExportManifest {
  format: 'atelier-export';
  version: 1;
  generator: 'Atelier';
  exportedAt: string;
  items: ExportManifestItem[];
}

/** A readable, filesystem-safe slug of a prompt (ASCII, at most 40 characters). */
export function promptSlug(prompt: string): string {
  const slug = prompt
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return slug || 'untitled';
}

/** `<date>-<kind>-<prompt slug>-<id8>[-<n>].<ext>`; id8 is the random tail of the ULID. */
export function exportFileName(g: Generation, ext: string, index?: number): string {
  const date = new Date(g.createdAt).toISOString().slice(0, 10);
  const id8 = g.id.slice(-8).toLowerCase();
  return `${date}-${g.kind}-${promptSlug(g.prompt)}-${id8}${index === undefined ? '' : `-${index}`}.${ext.toLowerCase()}`;
}

interface StagedFile {
  name: string;
  item: ExportManifestItem;
}

async function stageBytes(staging: string, name: string, data: Uint8Array | string, g: Generation, role: string, mime: string): Promise<StagedFile> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  await writeFileSynced(path.join(staging, name), bytes);
  return {
    name,
    item: {
      id: g.id,
      kind: g.kind,
      model: g.model,
      prompt: g.prompt,
      role,
      mime,
      file: name,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      created: new Date(g.createdAt).toISOString(),
      parentId: g.parentId,
      ...(g.adherence ? { adherence: g.adherence } : {}),
      ...(g.batchDiversity ? { batchDiversity: g.batchDiversity } : {}),
    },
  };
}

async function stageGeneration(library: LibraryReader, g: Generation, staging: string, signing: ExportSigning | undefined): Promise<StagedFile[]> {
  const provenance: AtelierProvenance = provenanceOf(
    g,
    library.listAncestors(g.id).map((a) => a.id),
  );
  const staged: StagedFile[] = [];
  if (g.kind === 'text' && g.outputText !== null) {
    staged.push(await stageBytes(staging, exportFileName(g, 'md'), markdownWithFrontMatter(provenance, g.outputText), g, 'text', 'text/markdown'));
  }
  const numbered = g.assets.length > 1;
  for (const [index, asset] of g.assets.entries()) {
    const source = library.resolveAsset(asset.id);
    if (!source) throw new StudioError('NOT_FOUND', `A file of generation ${g.id} is missing from the library (asset ${asset.id}). Run a library check, then export again.`);
    const ext = path.extname(source.path).slice(1) || 'bin';
    const name = exportFileName(g, ext, numbered ? index + 1 : undefined);
    const raw = await fsp.readFile(source.path);
    let data: Uint8Array = raw;
    if (ext === 'png' || asset.mime === 'image/png') {
      data = embedPngProvenance(raw, provenance, asset);
    } else if (ext === 'wav') {
      data = embedWavProvenance(raw, provenance);
    }
    if (signing) data = await signExportedFile(library, signing, { generation: g, provenance, bytes: data, stored: raw, mime: asset.mime, title: name });
    staged.push(await stageBytes(staging, name, data, g, asset.role, asset.mime));
  }
  return staged;
}

function defaultZipName(now: Date): string {
  return `atelier-export-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}

export async function exportGenerations(library: LibraryReader, ids: string[], toDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) throw new StudioError('INVALID_INPUT', 'Choose at least one generation to export.');
  // Look every id up before writing anything, so a typo fails fast and writes nothing.
  const generations = unique.map((id) => library.getGeneration(id));
  const target = path.resolve(toDir);
  await fsp.mkdir(target, { recursive: true });
  await removeStaleStaging(target, EXPORT_STAGING_PREFIX);
  const staging = await makeStagingDir(target, EXPORT_STAGING_PREFIX);
  try {
    const staged: StagedFile[] = [];
    const taken = new Set<string>();
    for (const [done, g] of generations.entries()) {
      for (const file of await stageGeneration(library, g, staging, opts.signing)) {
        if (taken.has(file.name)) throw new Error(`unreachable: two exported files named ${file.name}`);
        taken.add(file.name);
        staged.push(file);
      }
      opts.onProgress?.({ done: done + 1, total: generations.length, id: g.id });
    }
    const manifest: ExportManifest = {
      format: 'atelier-export',
      version: 1,
      generator: 'Atelier',
      exportedAt: new Date().toISOString(),
      items: staged.map((s) => s.item),
    };
    await writeFileSynced(path.join(staging, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);

    if (opts.zip) {
      const name = (opts.zipName ?? defaultZipName(new Date())).replace(/\.zip$/i, '');
      if (!name || name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new StudioError('INVALID_INPUT', `"${name}" is not a usable ZIP file name.`);
      const partial = path.join(staging, `${name}.zip.partial`);
      const entries = [...staged.map((s) => ({ name: s.name, file: path.join(staging, s.name) })), { name: MANIFEST_NAME, file: path.join(staging, MANIFEST_NAME) }];
      await writeStoredZip(partial, entries);
      const zipPath = path.join(target, `${name}.zip`);
      await fsp.rename(partial, zipPath);
      await fsyncDirectory(target);
      return { files: [zipPath], manifest: MANIFEST_NAME, zip: zipPath };
    }

    const files: string[] = [];
    for (const s of staged) {
      const destination = path.join(target, s.name);
      await fsp.rename(path.join(staging, s.name), destination);
      files.push(destination);
    }
    // Files first and made durable, then the manifest: a manifest implies all its files.
    await fsyncDirectory(target);
    const manifestPath = path.join(target, MANIFEST_NAME);
    await fsp.rename(path.join(staging, MANIFEST_NAME), manifestPath);
    await fsyncDirectory(target);
    return { files, manifest: manifestPath };
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
