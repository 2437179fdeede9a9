import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { StudioError } from '../../shared/errors';
import type { CommitGenerationInput, Library } from '../library';
import { hashesByPlace } from './library-scan';
import { pngSize, readChunks, readTextChunks } from '../../shared/png-chunks';
import { paramsFromTextChunks, type ImportedParams } from '../../shared/png-metadata';
import { ATELIER_KEYWORD } from './provenance';

/**
 * Imports a folder of PNGs made by AUTOMATIC1111, ComfyUI, InvokeAI or Atelier as image
 * generations. Each picture is one commitGeneration (file stored, fsynced and renamed before its
 * row commits), so a kill mid-import leaves whole items only; running the import again skips what
 * is already there (same sha256, or for Atelier PNGs the same generation id). A picture that only
 * the trash holds is restored from it: skipping it as a duplicate would let the next purge delete
 * the one copy the person just asked to import.
 */

export interface ImportOptions {
  /** Also look in sub-folders. */
  recursive?: boolean;
  onProgress?: (progress: { done: number; total: number; file: string }) => void;
}

export interface ImportResult {
  imported: number;
  /** Generation ids created, in file order. */
  ids: string[];
  /** Generation ids brought back from the trash because a file of the folder is theirs. */
  restored: string[];
  skipped: { file: string; reason: string }[];
}

async function listPngs(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true, recursive });
  return entries
    .filter((e) => e.isFile() && /\.png$/i.test(e.name) && !e.name.startsWith('.'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

type PlannedImport = { input: Omit<CommitGenerationInput, 'files'>; atelierId?: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

/** An Atelier PNG: the `atelier` chunk (full generation JSON from export, or the engine's {kind, params}). */
function fromAtelier(json: string, library: Library): PlannedImport | null {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isRecord(doc) || !isRecord(doc.params)) return null;
  const params = doc.params;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const seed = typeof doc.seed === 'number' ? doc.seed : typeof params.seed === 'number' ? params.seed : null;
  const parentId = text(doc.parentId);
  return {
    atelierId: text(doc.id),
    input: {
      kind: 'image',
      model: text(doc.model) ?? text(params.model) ?? 'unknown',
      modelDigest: text(doc.modelDigest) ?? null,
      prompt: text(doc.prompt) ?? text(params.prompt) ?? '',
      negativePrompt: text(doc.negativePrompt) ?? text(params.negativePrompt) ?? '',
      seed,
      // The original parameters, unchanged; `source` is added only if they carry none.
      params: { ...params, source: text(params.source) ?? 'atelier' },
      // Lineage survives only within a library that still has the parent.
      parentId: parentId && library.findGeneration(parentId) ? parentId : null,
      provider: text(doc.provider) ?? null,
    },
  };
}

function fromOtherTool(p: ImportedParams): PlannedImport {
  return {
    input: {
      kind: 'image',
      model: p.model ?? `${p.source}-import`,
      prompt: p.prompt,
      negativePrompt: p.negativePrompt,
      seed: p.seed !== undefined && Number.isSafeInteger(p.seed) ? p.seed : null,
      params: { ...p },
    },
  };
}

export async function importPngFolder(library: Library, dir: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const root = path.resolve(dir);
  let files: string[];
  try {
    files = await listPngs(root, opts.recursive ?? false);
  } catch {
    throw new StudioError('NOT_FOUND', `Cannot read the folder ${root}. Check the path and that Atelier may read it.`);
  }
  const { live: known, trashedBy } = hashesByPlace(library);
  const result: ImportResult = { imported: 0, ids: [], restored: [], skipped: [] };
  const restore = (ids: string[]): void => {
    library.restoreGenerations(ids);
    result.restored.push(...ids.filter((id) => !result.restored.includes(id)));
  };
  for (const [index, file] of files.entries()) {
    const name = path.relative(root, file);
    const skip = (reason: string) => result.skipped.push({ file: name, reason });
    try {
      const bytes = await fsp.readFile(file);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (known.has(sha256)) {
        skip('already in the library (same file)');
        continue;
      }
      const trashed = trashedBy.get(sha256);
      if (trashed) {
        restore(trashed);
        trashedBy.delete(sha256);
        known.add(sha256);
        continue;
      }
      let chunks;
      try {
        chunks = readChunks(bytes);
      } catch (error) {
        skip(`not a readable PNG (${error instanceof Error ? error.message : String(error)})`);
        continue;
      }
      const texts = readTextChunks(chunks, inflateSync);
      const atelierJson = texts.get(ATELIER_KEYWORD);
      let plan = atelierJson ? fromAtelier(atelierJson, library) : null;
      if (!plan) {
        let other: ImportedParams | null;
        try {
          other = paramsFromTextChunks(texts);
        } catch (error) {
          skip(`its generation metadata is unreadable (${error instanceof Error ? error.message : String(error)})`);
          continue;
        }
        if (!other) {
          skip('no generation parameters (not made by AUTOMATIC1111, ComfyUI, InvokeAI or Atelier)');
          continue;
        }
        plan = fromOtherTool(other);
      }
      const existing = plan.atelierId ? library.findGeneration(plan.atelierId) : null;
      if (existing) {
        if (existing.deletedAt === null) skip(`already in the library (generation ${existing.id})`);
        else restore([existing.id]);
        continue;
      }
      const size = pngSize(chunks);
      const generation = await library.commitGeneration({
        ...plan.input,
        files: [{ sourcePath: file, mime: 'image/png', role: 'image', width: size?.width ?? null, height: size?.height ?? null }],
      });
      known.add(sha256);
      result.imported++;
      result.ids.push(generation.id);
    } catch (error) {
      if (error instanceof StudioError && error.code === 'INTERNAL') throw error;
      skip(error instanceof Error ? error.message : String(error));
    } finally {
      opts.onProgress?.({ done: index + 1, total: files.length, file: name });
    }
  }
  return result;
}
