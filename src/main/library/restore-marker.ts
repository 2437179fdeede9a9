import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { fsyncDirectorySync } from '../files/fsync';

/**
 * `restore.json` in the library folder says that its database was replaced by a restore (or by the
 * undo of one), from what, and where the database it replaced was kept. While `opened` is false
 * the next open does not judge the files by the new database (it may name fewer of them); the
 * Library offers "Undo restore" while the marker says `action: 'restore'`.
 */

export const RESTORE_MARKER = 'restore.json';

export const RestoreMarker = z.object({
  action: z.enum(['restore', 'undo-restore']),
  /** The backup the database came from (an archive or a database copy). */
  from: z.string(),
  restoredAt: z.number(),
  /** The database that was replaced, kept in backups/ (null when there was none). */
  previousDatabase: z.string().nullable(),
  opened: z.boolean(),
});
export type RestoreMarker = z.infer<typeof RestoreMarker>;

export function readRestoreMarker(root: string): RestoreMarker | null {
  try {
    const parsed = RestoreMarker.safeParse(JSON.parse(fs.readFileSync(path.join(root, RESTORE_MARKER), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function writeRestoreMarker(root: string, marker: RestoreMarker): void {
  const file = path.join(root, RESTORE_MARKER);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${JSON.stringify(marker, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDirectorySync(root);
}

export function markRestoreOpened(root: string): void {
  const marker = readRestoreMarker(root);
  if (marker && !marker.opened) writeRestoreMarker(root, { ...marker, opened: true });
}

/** Hides "Undo restore" (the kept database stays in backups/). */
export function dismissRestoreMarker(root: string): void {
  fs.rmSync(path.join(root, RESTORE_MARKER), { force: true });
}
