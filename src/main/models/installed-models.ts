import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { InstalledModel } from '../../shared/contract';
import type { ModelInspection } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import { ggufInFolder, isGgufMagic, isGgufName } from '../../shared/gguf-names';
import type { ModelKind } from '../../shared/params';
import type { InstalledModelRecord, Library } from '../library';
import { fsyncDirectory } from '../files/fsync';
import { sha256File } from '../files/sha256-file';
import { writeJsonDurably } from './write-json-durably';

/**
 * Models already on disk: registering a folder or file people have (its files stay where they
 * are), installing a finished download, verifying and removing. A downloaded model keeps the
 * digests of its files in INSTALLED_MANIFEST; an imported one has a size record in `.imports/`.
 */

export type ModelLibrary = Pick<Library, 'upsertModel' | 'listModels' | 'findModel' | 'getModel' | 'removeModel' | 'listGenerations' | 'listSettings' | 'setSetting'>;

/** What the installed-model operations work on: the models folder, the library's rows and the engine's layout check. */
export interface InstalledModels {
  modelsDir: string;
  library: ModelLibrary;
  validate: (dir: string) => Promise<ModelInspection>;
}

export interface RemoveResult {
  id: string;
  usedBy: number;
  filesDeleted: boolean;
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  /** 'download': checked against the digests recorded at download; 'import': sizes only, digests fresh. */
  basis: 'download' | 'import';
  files: { path: string; bytes: number; sha256: string | null; problem?: string }[];
}

/** Kept inside an installed model's folder: the digests `verify` compares against. */
const INSTALLED_MANIFEST = '.atelier-manifest.json';
const InstalledManifest = z.object({
  version: z.literal(1),
  source: z.string(),
  commit: z.string().nullable(),
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string() })),
});
const ImportRecord = z.object({ version: z.literal(1), files: z.array(z.object({ path: z.string(), size: z.number() })) });

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'model';
}

function importRecordPath(modelsDir: string, id: string): string {
  return path.join(modelsDir, '.imports', `${id}.json`);
}

async function listTree(dir: string, prefix = ''): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listTree(path.join(dir, entry.name), rel)));
    else if (entry.isFile() && rel !== INSTALLED_MANIFEST) out.push({ path: rel, size: (await fs.stat(path.join(dir, entry.name))).size });
  }
  return out;
}

/**
 * The files of a model path: a folder's tree, or a single model file (a .gguf imported on its
 * own), listed relative to `base` (the folder, or the file's folder).
 */
async function listModelFiles(target: string): Promise<{ base: string; files: { path: string; size: number }[] }> {
  const info = await fs.stat(target);
  if (info.isFile()) return { base: path.dirname(target), files: [{ path: path.basename(target), size: info.size }] };
  return { base: target, files: await listTree(target) };
}

/**
 * What runs an installed model, for the labels of the model lists ("· GGUF", "· server"): read from
 * its path as the engine reads it. Unknown (undefined) when the path is gone; the engine's own
 * inspection still decides what runs.
 */
export async function modelFormat(modelPath: string): Promise<InstalledModel['format']> {
  const info = await fs.stat(modelPath).catch(() => null);
  if (!info) return undefined;
  if (info.isDirectory()) {
    const names = await fs.readdir(modelPath).catch(() => null);
    if (!names) return undefined;
    return ggufInFolder(names).kind === 'none' ? 'onnx' : 'gguf';
  }
  if (/\.openai\.json$/i.test(modelPath)) return 'server';
  if (isGgufName(modelPath)) return 'gguf';
  const handle = await fs.open(modelPath, 'r').catch(() => null);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    // An Ollama blob is named by its digest; its magic says it is GGUF.
    return isGgufMagic(head.subarray(0, bytesRead)) ? 'gguf' : undefined;
  } finally {
    await handle.close();
  }
}

export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Layout problems as sentences, each ending with a full stop. */
export function sentences(problems: string[]): string {
  if (problems.length === 0) return 'its layout was not recognised.';
  return problems.map((p) => (/[.!?]$/.test(p) ? p : `${p}.`)).join(' ');
}

/** Registers a model folder (or a single .gguf file) already on disk after validating it; its files stay where they are. */
export async function importModel({ modelsDir, library, validate }: InstalledModels, dir: string, name?: string): Promise<InstalledModelRecord> {
  const absolute = path.resolve(dir);
  const inspection = await validate(absolute);
  if (!inspection.ok || inspection.kind === 'unknown') {
    const what = /\.gguf$/i.test(absolute) ? 'This GGUF file' : /\.openai\.json$/i.test(absolute) ? 'This remote model' : (await fs.stat(absolute).then((s) => s.isFile(), () => false)) ? 'This file' : 'This folder';
    throw new StudioError('MODEL_INVALID', `${what} is not a model Atelier can run: ${sentences(inspection.problems)}${inspection.kind === 'unknown' ? ' Choose the model\'s own folder (the one that holds config.json, model_index.json or a .gguf file) or a .gguf file.' : ''}`);
  }
  const existing = library.listModels().find((m) => m.path === absolute);
  const base = slug(name ?? path.basename(absolute).replace(/\.gguf$/i, ''));
  let id = existing?.id ?? base;
  for (let n = 2; !existing && library.findModel(id); n++) id = `${base}-${n}`;
  const { files } = await listModelFiles(absolute);
  await fs.mkdir(path.join(modelsDir, '.imports'), { recursive: true });
  await writeJsonDurably(importRecordPath(modelsDir, id), { version: 1, files } satisfies z.infer<typeof ImportRecord>);
  return library.upsertModel({ id, kind: inspection.kind, name: name ?? path.basename(absolute), path: absolute, bytes: inspection.totalBytes, source: 'local' });
}

/** Forgets a model; deletes its files only when they are inside modelsDir and not a download in progress (never a user's folder). */
export async function removeModel({ modelsDir, library }: InstalledModels, downloadsDir: string, id: string): Promise<RemoveResult> {
  const model = library.getModel(id);
  const usedBy = library.listGenerations({ model: model.id, limit: 1 }).total;
  library.removeModel(id);
  const filesDeleted = isInside(modelsDir, model.path) && !isInside(downloadsDir, model.path);
  if (filesDeleted) await fs.rm(model.path, { recursive: true, force: true });
  await fs.rm(importRecordPath(modelsDir, id), { force: true });
  return { id, usedBy, filesDeleted };
}

/** Re-reads every file: digests against the download's record, or sizes for imported folders. */
export async function verifyModel({ modelsDir, library }: InstalledModels, id: string): Promise<VerifyResult> {
  const model = library.getModel(id);
  const recorded = await fs.readFile(path.join(model.path, INSTALLED_MANIFEST), 'utf8').then((t) => InstalledManifest.safeParse(JSON.parse(t)), () => null);
  const files: VerifyResult['files'] = [];
  if (recorded?.success) {
    for (const f of recorded.data.files) {
      const file = path.join(model.path, f.path);
      const size = await fs.stat(file).then((s) => s.size, () => -1);
      if (size < 0) {
        files.push({ path: f.path, bytes: 0, sha256: null, problem: 'missing: download the model again' });
        continue;
      }
      const { sha256 } = await sha256File(file);
      const problem = size !== f.size ? `size is ${size}, expected ${f.size}` : sha256 !== f.sha256 ? `sha256 is ${sha256}, expected ${f.sha256}` : undefined;
      files.push({ path: f.path, bytes: size, sha256, ...(problem ? { problem: `${problem}: download the model again` } : {}) });
    }
    return { id, ok: files.every((f) => !f.problem), basis: 'download', files };
  }
  const record = await fs.readFile(importRecordPath(modelsDir, id), 'utf8').then((t) => ImportRecord.safeParse(JSON.parse(t)), () => null);
  const expected = new Map((record?.success ? record.data.files : []).map((f) => [f.path, f.size]));
  const { base, files: present } = await listModelFiles(model.path).catch(() => ({ base: model.path, files: [] }));
  for (const f of present) {
    const want = expected.get(f.path);
    expected.delete(f.path);
    const problem = want !== undefined && want !== f.size ? `size is ${f.size}, was ${want} when imported` : undefined;
    files.push({ path: f.path, bytes: f.size, sha256: (await sha256File(path.join(base, f.path))).sha256, ...(problem ? { problem } : {}) });
  }
  for (const [missing] of expected) files.push({ path: missing, bytes: 0, sha256: null, problem: 'missing since the import' });
  if (present.length === 0) files.push({ path: '.', bytes: 0, sha256: null, problem: `${model.path} is empty or gone` });
  return { id, ok: files.every((f) => !f.problem), basis: 'import', files };
}

/** A finished, validated download: what to install and where its files wait. */
export interface DownloadedModel {
  id: string;
  repo: string;
  revision: string;
  commit: string | null;
  name: string;
  kind: ModelKind;
  bytes: number;
  filesDir: string;
  files: { path: string; size: number; sha256: string }[];
}

/** Moves the verified files into place, records their digests, then registers the model. */
export async function installDownload({ modelsDir, library }: InstalledModels, download: DownloadedModel): Promise<InstalledModelRecord> {
  const { files, filesDir } = download;
  const source = `hf:${download.repo}@${download.revision}`;
  await writeJsonDurably(path.join(filesDir, INSTALLED_MANIFEST), { version: 1, source, commit: download.commit, files } satisfies z.infer<typeof InstalledManifest>);
  const finalDir = path.join(modelsDir, download.id);
  await fs.rm(finalDir, { recursive: true, force: true });
  await fs.rename(filesDir, finalDir);
  // The library row registered below must not name a folder that a power loss un-renames.
  await fsyncDirectory(modelsDir);
  const digest = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) digest.update(`${f.path}\0${f.sha256}\n`);
  return library.upsertModel({ id: download.id, kind: download.kind, name: download.name, path: finalDir, bytes: download.bytes, source, digest: digest.digest('hex') });
}
