import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Writes `data` to `file` (a new name in a staging folder), fsynced. */
export async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fsp.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A staging folder named `<prefix><pid>-<random>` inside `parent`. The pid lets a later run tell
 * a leftover of a killed process (removed by `removeStaleStaging`) from one still being written.
 */
export async function makeStagingDir(parent: string, prefix: string): Promise<string> {
  const dir = path.join(parent, `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(dir, { recursive: false });
  return dir;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<prefix><pid>-…` entries in `parent` whose process is gone. Returns how many. */
export async function removeStaleStaging(parent: string, prefix: string): Promise<number> {
  let entries: string[];
  try {
    entries = await fsp.readdir(parent);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of entries) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    await fsp.rm(path.join(parent, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
