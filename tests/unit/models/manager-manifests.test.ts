import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openLibrary, type Library } from '../../../src/main/library';
import { HubClient } from '../../../src/main/models/hub-client';
import { ModelManager } from '../../../src/main/models/manager';
import { downloadId } from '../../../src/main/models/repo-spec';
import { StudioError } from '../../../src/shared/errors';

// The real durable writer, watched: each write is recorded as the file and a copy of its content then.
const durableWrites = vi.hoisted(() => [] as { file: string; value: unknown }[]);
vi.mock('../../../src/main/models/write-json-durably', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/main/models/write-json-durably')>();
  const writeJsonDurably: typeof actual.writeJsonDurably = (file, value, io) => {
    durableWrites.push({ file, value: structuredClone(value) });
    return actual.writeJsonDurably(file, value, io);
  };
  return { ...actual, writeJsonDurably };
});

/** A hub that cannot be reached: the download records itself, then fails at its first request. */
class UnreachableHub extends HubClient {
  override async resolveRevision(): Promise<string> {
    throw new StudioError('NETWORK', 'The hub cannot be reached in this test.');
  }
}

let library: Library;

beforeEach(() => {
  durableWrites.length = 0;
});

afterEach(() => {
  library.close();
});

describe('download manifests', () => {
  it('are written through the durable writer, so a restart finds the download as it was last recorded', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'atelier-manifests-'));
    library = openLibrary(path.join(tmp, 'library'));
    const modelsDir = path.join(tmp, 'models');
    const manager = new ModelManager({
      modelsDir,
      library,
      validate: async () => ({ kind: 'text', ok: true, problems: [], files: [], totalBytes: 0 }),
      hub: new UnreachableHub({ endpoint: 'http://127.0.0.1:9' }),
      statfs: async () => ({ bavail: 1e9, bsize: 4096 }),
    });

    await expect(manager.pull('owner/model')).rejects.toMatchObject({ code: 'NETWORK' });

    const manifestPath = path.join(modelsDir, '.downloads', downloadId('owner/model', 'main'), 'manifest.json');
    const written = durableWrites.filter((write) => write.file === manifestPath);
    expect(written.map((write) => write.value)).toEqual([
      expect.objectContaining({ repo: 'owner/model', status: 'queued' }),
      expect.objectContaining({ repo: 'owner/model', status: 'failed' }),
    ]);
    expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toMatchObject({ repo: 'owner/model', status: 'failed', error: { code: 'NETWORK' } });
    expect((await manager.listDownloads()).map((d) => d.status)).toEqual(['failed']);
  });
});
