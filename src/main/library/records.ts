import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Generation } from '../../shared/contract';
import { fsyncDirectorySync } from '../files/fsync';
import { originOf } from './generation-origin';

/**
 * Every generation's full record as a small JSON file beside the files it names:
 * `records/<last two id characters>/<id>.json`. It holds what the database row holds (ids,
 * timestamps, every parameter, lineage, rating, favourite, notes, tags, trash state and each
 * asset with its id and content hash), so the library can be rebuilt from its own folder when the
 * database is lost: `atelier library rebuild`.
 *
 * A new generation's record is written (and fsynced) before its row commits, like its files; later
 * changes (rating, tags, notes, trash) rewrite it after the row changes, by rename, without an
 * fsync each (a crash may lose the last such change in the record; the database keeps it).
 */

export const RECORDS_DIR = 'records';

const RecordAsset = z.object({
  id: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  ext: z.string().regex(/^[a-z0-9]{1,12}$/),
  mime: z.string(),
  bytes: z.number().int().min(0),
  role: z.string(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  durationMs: z.number().nullable(),
  createdAt: z.number(),
});

export const GenerationRecordFile = z.object({
  format: z.literal('atelier-record'),
  version: z.literal(1),
  // The contract's Generation without its assets (they are listed below with what the store needs).
  generation: Generation.omit({ assets: true }).extend({ id: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/) }),
  assets: z.array(RecordAsset),
});
export type GenerationRecordFile = z.infer<typeof GenerationRecordFile>;

/** What a record needs beyond the contract's Generation: each asset's extension and creation time. */
export interface AssetStorage {
  ext: string;
  createdAt: number;
}

export function recordOf(g: Generation, storage: (assetId: string) => AssetStorage): GenerationRecordFile {
  return {
    format: 'atelier-record',
    version: 1,
    generation: {
      ...originOf(g),
      params: g.params,
      parentId: g.parentId,
      provider: g.provider,
      providerNote: g.providerNote,
      timings: g.timings,
      outputText: g.outputText,
      rating: g.rating,
      favourite: g.favourite,
      notes: g.notes,
      tags: g.tags,
      createdAt: g.createdAt,
      deletedAt: g.deletedAt,
      ...(g.adherence ? { adherence: g.adherence } : {}),
      ...(g.batchDiversity ? { batchDiversity: g.batchDiversity } : {}),
    },
    assets: g.assets.map((a) => ({
      id: a.id,
      sha256: a.sha256,
      mime: a.mime,
      bytes: a.bytes,
      role: a.role,
      width: a.width,
      height: a.height,
      durationMs: a.durationMs,
      ...storage(a.id),
    })),
  };
}

const ID = /^[0-9A-Za-z_-]{1,64}$/;

/** `records/<xx>/<id>.json` under `root`, or null for an id that could not be a file name. */
export function recordPath(root: string, id: string): string | null {
  if (!ID.test(id)) return null;
  return path.join(root, RECORDS_DIR, id.slice(-2).toLowerCase(), `${id}.json`);
}

/** Writes a record by temp file and rename; `durable` adds the fsyncs that make it survive power loss. */
export function writeRecord(root: string, record: GenerationRecordFile, options: { durable: boolean }): void {
  const file = recordPath(root, record.generation.id);
  if (!file) throw new Error(`a generation id that cannot name a file: ${record.generation.id}`);
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${JSON.stringify(record)}\n`);
    if (options.durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  if (options.durable) fsyncDirectorySync(dir);
}

export function removeRecord(root: string, id: string): void {
  const file = recordPath(root, id);
  if (file) fs.rmSync(file, { force: true });
}

export function readRecord(file: string): GenerationRecordFile | null {
  try {
    const parsed = GenerationRecordFile.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Every `<id>.json` under `<root>/records` (two levels), unreadable ones included (the caller reports them). */
export function listRecordFiles(root: string): string[] {
  const base = path.join(root, RECORDS_DIR);
  const files: string[] = [];
  for (const shard of readdirSafe(base)) {
    const dir = path.join(base, shard);
    for (const name of readdirSafe(dir)) if (name.endsWith('.json')) files.push(path.join(dir, name));
  }
  return files.sort();
}

function readdirSafe(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
