/** spawnEngine() for the stamped bench engine: the product's spawnNodeEngine with another entry. */
import path from 'node:path';
import { spawnNodeEngine } from '../src/main/engine-host/spawn-node';
import type { EngineChild } from '../src/main/engine-host/types';
import type { EngineMessage } from '../src/shared/engine-protocol';

export type StampedMessage = EngineMessage & { benchSentAt?: number };

export const wallNow = (): number => performance.timeOrigin + performance.now();

/** `onArrive` sees every engine message with its send stamp and the arrival time in this process. */
export function spawnStampedEngine(onArrive: (message: StampedMessage, arrivedAt: number) => void): EngineChild {
  const child = spawnNodeEngine(process.env, { file: path.join(__dirname, 'stamped-engine.ts'), execArgv: ['--import', 'tsx'] });
  child.onMessage((message) => onArrive(message, wallNow()));
  return child;
}
