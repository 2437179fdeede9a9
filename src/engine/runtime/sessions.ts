import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { EngineOptions, ProviderName } from '../../shared/engine-protocol';
import { StudioError } from '../../shared/errors';
import { checkModelFile, digest, isModelParseError } from './model-files';
import { describeProviderFailure, fallbackNote, providerLabel, type ProviderRegistry } from './providers';
import type { ResidentCache } from './resident';
import type { LoadedSession, SessionSource } from './types';

export { digest };

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { provider: 'auto', intraOpThreads: 0, memoryBudgetMb: 0 };

/** Threads for one session: the configured number, else the machine's parallelism. */
export function resolveThreads(options: EngineOptions): number {
  return options.intraOpThreads > 0 ? options.intraOpThreads : Math.max(1, os.availableParallelism());
}

export interface ProviderAttempt {
  provider: ProviderName;
  providerNote?: string;
}

/**
 * Tries each provider of the chain with `create` (skipping those the registry already knows are
 * unavailable) and returns the first that works, with the reasons of those that did not.
 * Errors that are the model's fault (a file onnxruntime cannot parse) are not provider failures:
 * they end the attempt at once as MODEL_INVALID.
 */
export async function withProviderChain<T>(
  registry: ProviderRegistry,
  options: EngineOptions,
  create: (provider: ProviderName) => Promise<T>,
  describeModel: string,
): Promise<{ value: T } & ProviderAttempt> {
  const chain = registry.chain(options.provider);
  const skipped: string[] = [];
  let lastError: unknown = null;
  for (const provider of chain) {
    const status = await registry.check(provider);
    if (!status.available) {
      skipped.push(status.reason ?? `${providerLabel(provider)} unavailable`);
      continue;
    }
    try {
      const value = await create(provider);
      return { value, provider, providerNote: fallbackNote(skipped, provider) };
    } catch (error) {
      if (error instanceof StudioError) throw error;
      if (isModelParseError(error)) {
        const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0];
        throw new StudioError('MODEL_INVALID', `${describeModel} could not be read by onnxruntime (${detail}). Delete the model folder and download it again from the Models tab.`);
      }
      lastError = error;
      skipped.push(describeProviderFailure(provider, error));
    }
  }
  if (options.provider !== 'auto') {
    const label = providerLabel(options.provider);
    throw new StudioError(
      'PROVIDER_UNAVAILABLE',
      `${describeModel} did not run: ${skipped.join('; ')}. ${label} is forced in Settings → Performance → Execution provider; choose "Automatic (best available)" there to let Atelier fall back to another provider, or choose "CPU".`,
    );
  }
  const detail = lastError instanceof Error ? lastError.message.split('\n')[0] : skipped.join('; ');
  throw new StudioError('PROVIDER_UNAVAILABLE', `No execution provider could run ${describeModel}: ${detail}. Try Settings → Performance → Execution provider "CPU".`);
}

/**
 * The runtime's SessionSource: checks the file, creates the session on the first provider of the
 * chain that works (keeping the reasons of the others), caches it by file + options, and keeps
 * the total under the memory budget by unloading the least recently used sessions.
 */
export class SessionManager implements SessionSource {
  private readonly pending = new Map<string, Promise<LoadedSession>>();

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly resident: ResidentCache,
    private readonly options: () => EngineOptions,
  ) {}

  private keyFor(file: string, fingerprint: string, options: EngineOptions): string {
    return `session:${file}|${fingerprint}|${options.provider}|${resolveThreads(options)}`;
  }

  private readonly loaded = new Map<string, LoadedSession>();

  async load(modelFile: string): Promise<LoadedSession> {
    const facts = await checkModelFile(modelFile);
    const options = this.options();
    const key = this.keyFor(facts.path, facts.fingerprint, options);
    const hit = this.resident.get(key);
    const loaded = this.loaded.get(key);
    if (hit && loaded) return loaded;
    const inflight = this.pending.get(key);
    if (inflight) return inflight;
    const promise = (async () => {
      await this.resident.makeRoom(facts.bytes + facts.externalBytes, key);
      const threads = resolveThreads(options);
      const attempt = await withProviderChain(
        this.registry,
        options,
        (provider) =>
          ort.InferenceSession.create(facts.path, {
            executionProviders: [provider],
            intraOpNumThreads: threads,
            graphOptimizationLevel: 'all',
            logSeverityLevel: 3,
          }),
        `The model file ${facts.path}`,
      );
      const session: LoadedSession = { session: attempt.value, path: facts.path, provider: attempt.provider, providerNote: attempt.providerNote };
      this.loaded.set(key, session);
      await this.resident.add({
        key,
        kind: 'session',
        bytes: facts.bytes + facts.externalBytes,
        dispose: async () => {
          this.loaded.delete(key);
          await attempt.value.release();
        },
      });
      return session;
    })();
    this.pending.set(key, promise);
    try {
      return await promise;
    } finally {
      this.pending.delete(key);
    }
  }

  /** Unloads the sessions of files under `prefix` (a model folder), or all of them. */
  async unload(prefix?: string): Promise<string[]> {
    return this.resident.clear(prefix === undefined ? 'session:' : `session:${prefix}`);
  }
}
