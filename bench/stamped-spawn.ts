/** spawnEngine() for the stamped bench engine (same fork options as src/main/engine-host/spawn-node.ts). */
import { fork } from 'node:child_process';
import path from 'node:path';
import { describeExit, type EngineChild, type EngineExit } from '../src/main/engine-host/types';
import type { EngineMessage } from '../src/shared/engine-protocol';

export type StampedMessage = EngineMessage & { benchSentAt?: number };

export const wallNow = (): number => performance.timeOrigin + performance.now();

/** `onArrive` sees every engine message with its send stamp and the arrival time in this process. */
export function spawnStampedEngine(onArrive: (message: StampedMessage, arrivedAt: number) => void): EngineChild {
  const child = fork(path.join(__dirname, 'stamped-engine.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ATELIER_ENGINE: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const exitListeners: ((exit: EngineExit) => void)[] = [];
  let exited = false;
  const finish = (code: number | null, signal: string | null) => {
    if (exited) return;
    exited = true;
    for (const listener of exitListeners) listener({ code, signal, reason: describeExit(code, signal) });
  };
  child.on('exit', (code, signal) => finish(code, signal));
  child.on('error', () => finish(null, null));
  child.on('message', (message) => onArrive(message as StampedMessage, wallNow()));
  return {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (!exited && child.connected) child.send(message);
    },
    onMessage(listener) {
      child.on('message', (message) => listener(message as EngineMessage));
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
