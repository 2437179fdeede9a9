import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureImageFixtures } from '../../../scripts/fixtures/image';
import { ensureFixtures } from '../../../scripts/fixtures/index';
import { spawnNodeEngine } from '../../../src/main/engine-host/spawn-node';
import { createStudio, type Studio } from '../../../src/main/studio';
import type { Job } from '../../../src/shared/contract';

export async function allFixtures() {
  const [models, images] = await Promise.all([ensureFixtures(), ensureImageFixtures()]);
  return { ...models, images };
}

export function tempDataDir(prefix = 'atelier-it-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function openStudio(dataDir: string, mode: 'cli' | 'browser' = 'cli'): Promise<Studio> {
  return createStudio({ dataDir, mode, spawnEngine: () => spawnNodeEngine() });
}

/** Resolves with the first progress event of a job (it is then really running in the engine). */
export function firstProgress(studio: Studio, jobId: string, minStep = 1): Promise<void> {
  return new Promise((resolve) => {
    const off = studio.events.subscribe((event, payload) => {
      if (event === 'jobs.progress' && (payload as { jobId: string; step: number }).jobId === jobId && (payload as { step: number }).step >= minStep) {
        off();
        resolve();
      }
    });
  });
}

export async function start(studio: Studio, request: Parameters<Studio['queue']['enqueue']>[0]): Promise<Job> {
  return studio.queue.enqueue(request);
}
