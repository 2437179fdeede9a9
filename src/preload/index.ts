import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CallName, EventName } from '../shared/contract';
import type { Result } from '../shared/errors';
import { createStudioApi } from '../shared/studio-api';

// Thin by design: one method per call (generated from the contract), `on(event, cb)` returning an
// unsubscribe function, and the callback never sees Electron's event object.
const invoke = (name: CallName, input: unknown) => ipcRenderer.invoke('studio:call', name, input) as Promise<Result<unknown>>;

const subscribe = (event: EventName, callback: (payload: unknown) => void) => {
  const listener = (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
    if (name === event) callback(payload);
  };
  ipcRenderer.on('studio:event', listener);
  return () => {
    ipcRenderer.removeListener('studio:event', listener);
  };
};

contextBridge.exposeInMainWorld('studio', createStudioApi(invoke, subscribe));
