import fs from 'node:fs';
import fsp from 'node:fs/promises';

/**
 * Makes a rename or a new entry in `dir` durable. Windows cannot open a directory for fsync; NTFS
 * journals renames itself. Used by the library store, records, restores, export, backup and model
 * downloads: one rule for all of them.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncDirectory for synchronous code (opening, restoring, records): same rule, same Windows exception. */
export function fsyncDirectorySync(dir: string): void {
  if (process.platform === 'win32') return;
  fsyncSyncAt(dir, 'r');
}

/** Flushes a file already written and closed (a copy made with copyFileSync) to disk. */
export function fsyncFileSync(file: string): void {
  // Opened for writing: Windows refuses to flush a file opened read-only.
  fsyncSyncAt(file, 'r+');
}

function fsyncSyncAt(target: string, flags: 'r' | 'r+'): void {
  const fd = fs.openSync(target, flags);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
