import type { EngineOptions } from '../../shared/engine-protocol';
import { ProviderRegistry } from './providers';
import { ResidentCache } from './resident';
import { DEFAULT_ENGINE_OPTIONS, SessionManager } from './sessions';

/** Everything a pipeline needs from the runtime: options, providers, sessions and the memory budget. */
export interface EngineContext {
  options(): EngineOptions;
  registry: ProviderRegistry;
  resident: ResidentCache;
  sessions: SessionManager;
}

export function createEngineContext(initial: Partial<EngineOptions> = {}, registry = new ProviderRegistry()): EngineContext & { setOptions(options: EngineOptions): void } {
  let current: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS, ...initial };
  const options = () => current;
  const resident = new ResidentCache(() => current.memoryBudgetMb * 1024 * 1024);
  return {
    options,
    registry,
    resident,
    sessions: new SessionManager(registry, resident, options),
    setOptions(next) {
      current = { ...next };
    },
  };
}
