import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EngineMessage } from '../../shared/engine-protocol';
import { appRoot } from '../paths';
import { describeExit, type EngineChild, type EngineExit } from './types';

/**
 * The engine entry: the built bundle (out/main/engine.js) when this code runs built, else the
 * TypeScript source through tsx (CLI in development, tests, browser mode).
 */
export function engineEntry(): { file: string; execArgv: string[] } {
  const root = appRoot();
  const built = path.join(root, 'out', 'main', 'engine.js');
  if (!__filename.endsWith('.ts') && existsSync(built)) return { file: built, execArgv: [] };
  return { file: path.join(root, 'src', 'engine', 'main.ts'), execArgv: ['--import', 'tsx'] };
}

/**
 * spawnEngine() for Node: child_process.fork with an IPC channel. Electron's lives in src/main/shell.
 * `entry` replaces the engine script (benchmarks fork an instrumented one with the same options).
 */
export function spawnNodeEngine(env: NodeJS.ProcessEnv = process.env, entry = engineEntry()): EngineChild {
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    env: { ...env, ATELIER_ENGINE: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const exitListeners: ((exit: EngineExit) => void)[] = [];
  let exited = false;
  const finish = (code: number | null, signal: string | null) => {
    if (exited) return;
    exited = true;
    const exit = { code, signal, reason: describeExit(code, signal) };
    for (const listener of exitListeners) listener(exit);
  };
  child.on('exit', (code, signal) => finish(code, signal));
  child.on('error', () => finish(null, null));
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
