import type { EngineMessage, EngineRequest } from '../../shared/engine-protocol';

export interface EngineExit {
  code: number | null;
  signal: string | null;
  /** A sentence for people: "killed by SIGKILL", "exited with code 3", … */
  reason: string;
}

/** One running engine process, whichever way it was started (utilityProcess or child_process). */
export interface EngineChild {
  readonly pid: number | undefined;
  send(message: EngineRequest): void;
  onMessage(listener: (message: EngineMessage) => void): void;
  onExit(listener: (exit: EngineExit) => void): void;
  kill(): void;
}

export type SpawnEngine = () => EngineChild;

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  if (code === null) return 'stopped';
  return code === 0 ? 'exited normally' : `exited with code ${code}`;
}
