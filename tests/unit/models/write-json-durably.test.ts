import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsyncDirectory } from '../../../src/main/files/fsync';
import { writeFileSynced } from '../../../src/main/library-io/durable';
import { writeJsonDurably, type DurableWriteIo } from '../../../src/main/models/write-json-durably';

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'atelier-durable-json-'));
}

/** The real operations, each call recorded as `step path…` relative to `dir`. */
function recordingIo(dir: string, steps: string[]): DurableWriteIo {
  const rel = (p: string) => path.relative(dir, p) || '.';
  return {
    writeFileSynced: async (file, data) => {
      steps.push(`write+fsync ${rel(file)}`);
      await writeFileSynced(file, data);
    },
    rename: async (from, to) => {
      steps.push(`rename ${rel(from)} -> ${rel(to)}`);
      await fsp.rename(from, to);
    },
    fsyncDirectory: async (target) => {
      steps.push(`fsync-dir ${rel(target)}`);
      await fsyncDirectory(target);
    },
  };
}

describe('writeJsonDurably', () => {
  it('writes and fsyncs a temporary file, renames it over the target, then fsyncs the directory', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, JSON.stringify({ status: 'queued' }));
    const steps: string[] = [];

    await writeJsonDurably(file, { status: 'downloading' }, recordingIo(dir, steps));

    expect(steps).toHaveLength(3);
    expect(steps[0]).toMatch(/^write\+fsync manifest\.json\.\d+-[0-9a-f]+\.tmp$/);
    expect(steps[1]).toBe(`rename ${steps[0]!.slice('write+fsync '.length)} -> manifest.json`);
    expect(steps[2]).toBe('fsync-dir .');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ status: 'downloading' });
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('keeps the old content, and no temporary file, when the write fails half-way', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, JSON.stringify({ status: 'queued' }));
    const io: DurableWriteIo = {
      ...recordingIo(dir, []),
      writeFileSynced: async (tmp, data) => {
        writeFileSync(tmp, data.slice(0, 5));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    };

    await expect(writeJsonDurably(file, { status: 'downloading' }, io)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ status: 'queued' });
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('keeps the old content when the rename fails', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'manifest.json');
    writeFileSync(file, JSON.stringify({ status: 'queued' }));
    const io: DurableWriteIo = {
      ...recordingIo(dir, []),
      rename: async () => {
        throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      },
    };

    await expect(writeJsonDurably(file, { status: 'downloading' }, io)).rejects.toMatchObject({ code: 'EACCES' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ status: 'queued' });
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('gives every write its own temporary file, so two writes of one file at once both land', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'manifest.json');
    await Promise.all([writeJsonDurably(file, { n: 1 }), writeJsonDurably(file, { n: 2 })]);
    expect([{ n: 1 }, { n: 2 }]).toContainEqual(JSON.parse(readFileSync(file, 'utf8')));
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });
});
