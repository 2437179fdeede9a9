import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ErrorShape } from '../../shared/contract';
import { toErrorShape, type StudioErrorShape } from '../../shared/errors';

/**
 * A download's manifest (`<modelsDir>/.downloads/<id>/manifest.json`): what is being downloaded
 * and how far it got, so a restarted process can finish it.
 */

export type DownloadStatus = 'queued' | 'downloading' | 'paused' | 'verifying' | 'done' | 'failed' | 'cancelled';

export interface DownloadState {
  id: string;
  repo: string;
  revision: string;
  status: DownloadStatus;
  bytesDone: number;
  bytesTotal: number;
  /** Smoothed bytes per second. */
  rate: number;
  /** Null while the rate is unknown. */
  etaMs: number | null;
  error?: StudioErrorShape;
}

const ManifestFile = z.object({ path: z.string(), size: z.number(), oid: z.string(), sha256: z.string().nullable(), done: z.boolean().default(false), digest: z.string().nullable().default(null) });

export const Manifest = z.object({
  version: z.literal(1),
  id: z.string(),
  repo: z.string(),
  revision: z.string(),
  commit: z.string().nullable(),
  name: z.string(),
  patterns: z.array(z.string()).nullable(),
  status: z.enum(['queued', 'downloading', 'paused', 'verifying', 'done', 'failed', 'cancelled']),
  files: z.array(ManifestFile).nullable(),
  error: ErrorShape.nullable().default(null),
  createdAt: z.number(),
});
export type Manifest = z.infer<typeof Manifest>;

/** The manifest in a download folder, or null when it is missing or unreadable. */
export async function readManifestIn(stagingDir: string): Promise<Manifest | null> {
  try {
    const parsed = Manifest.safeParse(JSON.parse(await fs.readFile(path.join(stagingDir, 'manifest.json'), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A download's state as its manifest on disk tells it (no rate: nothing is running). */
export function stateFromManifest(m: Manifest): DownloadState {
  const files = m.files ?? [];
  const total = files.reduce((s, f) => s + f.size, 0);
  const done = files.reduce((s, f) => s + (f.done ? f.size : 0), 0);
  return { id: m.id, repo: m.repo, revision: m.revision, status: m.status, bytesDone: done, bytesTotal: total, rate: 0, etaMs: null, ...(m.error ? { error: toErrorShape(m.error) } : {}) };
}
