import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { StudioError, toErrorShape, type StudioErrorShape } from '../../shared/errors';
import type { Dispatch } from '../ipc/dispatch';
import type { EventBus } from '../ipc/events';

/**
 * The running app's (or `serve`'s) door for the command line: a Unix domain socket in the library
 * folder (a named pipe on Windows) that only the same user can open, speaking one JSON object per
 * line. While the app owns a library, `atelier generate …` hands its job to the app through it and
 * prints the app's progress, instead of being refused. Calls go through the same dispatcher as
 * every other transport, as the command line (the caller is the same user, at the same keyboard).
 *
 *   → {"id": 1, "call": "jobs.start", "input": {...}}
 *   ← {"id": 1, "ok": true, "value": {...}}      or {"id": 1, "ok": false, "error": {code, message}}
 *   ← {"event": "jobs.progress", "payload": {...}}   every event, to every client
 */

/** Where the endpoint of the library in `libraryDir` listens. */
export function localEndpointPath(libraryDir: string, platform: NodeJS.Platform = process.platform): string {
  const hash = createHash('sha256').update(path.resolve(libraryDir)).digest('hex').slice(0, 16);
  if (platform === 'win32') return `\\\\.\\pipe\\atelier-${hash}`;
  const inLibrary = path.join(libraryDir, 'atelier.sock');
  // Socket paths are limited to about 104 bytes; a deep library folder gets one in the temp folder.
  return Buffer.byteLength(inLibrary) < 100 ? inLibrary : path.join(os.tmpdir(), `atelier-${hash}.sock`);
}

export interface LocalEndpoint {
  path: string;
  close(): Promise<void>;
}

/** Starts the endpoint; call it only while holding the library's lock (it replaces a stale socket file). */
export async function startLocalEndpoint(options: { socketPath: string; dispatch: Dispatch; events: EventBus }): Promise<LocalEndpoint> {
  const { socketPath, dispatch, events } = options;
  // A socket file left by a process that died: ours to replace, since we hold the library's lock.
  if (process.platform !== 'win32') fs.rmSync(socketPath, { force: true });
  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => socket.destroy());
    const send = (message: unknown) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
    };
    createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
      let request: { id?: unknown; call?: unknown; input?: unknown };
      try {
        request = JSON.parse(line) as typeof request;
      } catch {
        send({ id: null, ok: false, error: { code: 'INVALID_INPUT', message: 'Each message is one JSON object on one line.' } });
        return;
      }
      const id = typeof request.id === 'number' ? request.id : null;
      void dispatch(request.call, request.input ?? {}, { transport: 'cli' }).then(
        (result) => send({ id, ...result }),
        (error: unknown) => send({ id, ok: false, error: toErrorShape(error) }),
      );
    });
  });
  const unsubscribe = events.subscribe((event, payload) => {
    for (const socket of clients) if (!socket.destroyed) socket.write(`${JSON.stringify({ event, payload })}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (process.platform !== 'win32') fs.chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        for (const socket of clients) socket.destroy();
        server.close(() => resolve());
        if (process.platform !== 'win32') fs.rmSync(socketPath, { force: true });
      }),
  };
}

export interface LocalEndpointClient {
  call<T>(name: string, input: unknown): Promise<T>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  close(): void;
}

/** Connects to a running app's endpoint; rejects when nothing listens there. */
export function connectLocalEndpoint(socketPath: string): Promise<LocalEndpointClient> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      let next = 1;
      const pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
      const listeners = new Set<(event: string, payload: unknown) => void>();
      const fail = (error: StudioError) => {
        for (const waiter of pending.values()) waiter.reject(error);
        pending.clear();
      };
      socket.on('error', () => undefined);
      socket.on('close', () => fail(new StudioError('ENGINE_UNAVAILABLE', 'The running Atelier closed the connection (it may have quit).')));
      createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => {
        let message: { id?: number | null; ok?: boolean; value?: unknown; error?: StudioErrorShape; event?: string; payload?: unknown };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          return;
        }
        if (typeof message.event === 'string') {
          for (const listener of listeners) listener(message.event, message.payload);
          return;
        }
        const waiter = typeof message.id === 'number' ? pending.get(message.id) : undefined;
        if (!waiter || typeof message.id !== 'number') return;
        pending.delete(message.id);
        if (message.ok) waiter.resolve(message.value);
        else waiter.reject(new StudioError(message.error?.code ?? 'INTERNAL', message.error?.message ?? 'The running Atelier refused the call.'));
      });
      resolve({
        call<T>(name: string, input: unknown): Promise<T> {
          const id = next++;
          return new Promise<T>((res, rej) => {
            pending.set(id, { resolve: (value) => res(value as T), reject: rej });
            socket.write(`${JSON.stringify({ id, call: name, input })}\n`);
          });
        },
        onEvent(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        close: () => socket.destroy(),
      });
    });
  });
}
