import type { CallInput, Generation, Job } from '../../shared/contract';
import type { LibraryReader } from '../library';
import type { Studio } from '../studio';
import type { LocalEndpointClient } from '../transport/local-endpoint';
import type { Cli } from './context';

/**
 * Where a CLI job runs: in this process's own studio, or — when the desktop app or `serve` owns the
 * library — in that app, handed over through its local endpoint (see transport/local-endpoint.ts).
 */
export interface JobHost {
  start(request: CallInput<'jobs.start'>): Promise<string>;
  subscribe(listener: (event: string, payload: unknown) => void): () => void;
  waitFor(jobId: string): Promise<Job>;
  generation(id: string): Promise<Generation>;
  assetPath(assetId: string): Promise<string | null>;
}

export function localJobHost(cli: Cli, studio: Studio): JobHost {
  return {
    start: async (request) => (await cli.call('jobs.start', request)).jobId,
    subscribe: (listener) => studio.events.subscribe(listener),
    waitFor: (jobId) => studio.queue.waitFor(jobId),
    generation: async (id) => studio.library.getGeneration(id),
    assetPath: async (assetId) => studio.library.resolveAsset(assetId)?.path ?? null,
  };
}

export function remoteJobHost(client: LocalEndpointClient, reader: LibraryReader): JobHost {
  const finished = new Map<string, Job>();
  const waiters = new Map<string, (job: Job) => void>();
  client.onEvent((event, payload) => {
    if (event !== 'jobs.changed') return;
    const job = payload as Job;
    if (job.state !== 'done' && job.state !== 'failed' && job.state !== 'cancelled') return;
    finished.set(job.id, job);
    waiters.get(job.id)?.(job);
  });
  return {
    start: async (request) => (await client.call<{ jobId: string }>('jobs.start', request)).jobId,
    subscribe: (listener) => client.onEvent(listener),
    waitFor: (jobId) => {
      const done = finished.get(jobId);
      return done ? Promise.resolve(done) : new Promise((resolve) => waiters.set(jobId, resolve));
    },
    generation: (id) => client.call<Generation>('library.get', { id }),
    // Files are read straight from the library folder, read-only, beside the app that owns it.
    assetPath: async (assetId) => reader.resolveAsset(assetId)?.path ?? null,
  };
}
