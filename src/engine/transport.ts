import type { EngineMessage } from '../shared/engine-protocol';

/**
 * The engine's link to the main process, whichever way it was started: Electron's
 * utilityProcess (process.parentPort, messages wrapped in { data }) or Node's child_process.fork
 * (process.on('message') / process.send). Everything else in the engine sees only this.
 */
export interface EngineTransport {
  readonly name: 'electron-utility' | 'node-fork';
  send(message: EngineMessage): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Called when the parent goes away (Node fork only; Electron kills utility processes itself). */
  onDisconnect(handler: () => void): void;
}

interface ElectronParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

function electronParentPort(): ElectronParentPort | undefined {
  const candidate: unknown = (process as NodeJS.Process & { parentPort?: unknown }).parentPort;
  if (candidate && typeof candidate === 'object' && 'postMessage' in candidate && 'on' in candidate) {
    return candidate as ElectronParentPort;
  }
  return undefined;
}

export function detectTransport(): EngineTransport | null {
  const port = electronParentPort();
  if (port) {
    return {
      name: 'electron-utility',
      send: (message) => port.postMessage(message),
      onMessage: (handler) => {
        port.on('message', (event) => handler(event?.data));
      },
      onDisconnect: () => {},
    };
  }
  if (typeof process.send === 'function') {
    return {
      name: 'node-fork',
      send: (message) => {
        // A closed channel means the parent is gone; there is nobody to tell.
        if (process.connected) process.send?.(message, undefined, undefined, () => {});
      },
      onMessage: (handler) => {
        process.on('message', (message) => handler(message));
      },
      onDisconnect: (handler) => {
        process.on('disconnect', handler);
      },
    };
  }
  return null;
}
