import path from 'node:path';
import { utilityProcess } from 'electron';
import type { EngineMessage } from '../../shared/engine-protocol';
import { describeExit, type EngineChild, type EngineExit } from '../engine-host/types';
import { appRoot } from '../paths';

/** spawnEngine() for Electron: a utilityProcess, so a native crash in inference never takes the app down. */
export function spawnUtilityEngine(): EngineChild {
  const child = utilityProcess.fork(path.join(appRoot(), 'out', 'main', 'engine.js'), [], {
    serviceName: 'Atelier engine',
    stdio: 'inherit',
    env: { ...process.env, ATELIER_ENGINE: '1' },
  });
  const exitListeners: ((exit: EngineExit) => void)[] = [];
  let exited = false;
  child.on('exit', (code) => {
    if (exited) return;
    exited = true;
    const exit = { code, signal: null, reason: describeExit(code, null) };
    for (const listener of exitListeners) listener(exit);
  });
  return {
    get pid() {
      return child.pid;
    },
    send(message) {
      if (!exited) child.postMessage(message);
    },
    onMessage(listener) {
      child.on('message', (message: unknown) => listener(message as EngineMessage));
    },
    onExit(listener) {
      exitListeners.push(listener);
    },
    kill() {
      if (!exited) child.kill();
    },
  };
}
