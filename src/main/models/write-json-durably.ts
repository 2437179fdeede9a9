import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncDirectory } from '../files/fsync';
import { writeFileSynced } from '../library-io/durable';

/** The file operations a durable write needs; tests replace them to fail at each step. */
export interface DurableWriteIo {
  writeFileSynced(file: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  fsyncDirectory(dir: string): Promise<void>;
}

const nodeIo: DurableWriteIo = { writeFileSynced, rename: (from, to) => fsp.rename(from, to), fsyncDirectory };

/**
 * Replaces `file` with `value` as JSON so that after a crash or power loss it holds either the old
 * content or the new, never a torn or empty file: a fresh temporary file is written and fsynced,
 * renamed over `file`, and the directory fsynced so the rename itself survives. Download manifests
 * depend on this: a lost or empty one forgets a download that should resume after a restart.
 */
export async function writeJsonDurably(file: string, value: unknown, io: DurableWriteIo = nodeIo): Promise<void> {
  // A name of its own per write, so two writes of the same file never share a temporary file.
  const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await io.writeFileSynced(tmp, JSON.stringify(value, null, 1));
    await io.rename(tmp, file);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
  await io.fsyncDirectory(path.dirname(file));
}
