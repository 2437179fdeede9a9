import path from 'node:path';
import type { EngineOptions } from '../../shared/engine-protocol';
import type { EngineContext } from './context';
import { resolveThreads } from './sessions';

export interface LoadedModel<T> {
  entry: T;
  /** Estimated memory (the model's files), charged to the engine's budget. */
  bytes: number;
  dispose(): Promise<unknown>;
}

/**
 * transformers.js models kept loaded per (kind, folder, provider, threads) and registered with the
 * engine's memory budget: reused while resident, disposed when evicted or unloaded.
 */
export class ResidentModels<T> {
  private readonly loaded = new Map<string, T>();

  constructor(private readonly kind: 'text' | 'music' | 'embed') {}

  async get(ctx: EngineContext, modelDir: string, load: (dir: string, options: EngineOptions) => Promise<LoadedModel<T>>): Promise<T> {
    const dir = path.resolve(modelDir);
    const options = ctx.options();
    const key = `${this.kind}:${dir}|${options.provider}|${resolveThreads(options)}`;
    const cached = this.loaded.get(key);
    if (cached && ctx.resident.get(key)) return cached;
    const { entry, bytes, dispose } = await load(dir, options);
    this.loaded.set(key, entry);
    await ctx.resident.add({
      key,
      kind: this.kind,
      bytes,
      dispose: async () => {
        this.loaded.delete(key);
        await dispose();
      },
    });
    return entry;
  }

  /** Drops the cached models of a folder (or all of this kind). */
  unload(ctx: EngineContext, modelDir?: string): Promise<string[]> {
    return ctx.resident.clear(modelDir === undefined ? `${this.kind}:` : `${this.kind}:${path.resolve(modelDir)}|`);
  }
}
