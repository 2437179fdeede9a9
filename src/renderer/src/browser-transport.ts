import type { CallName, EventName } from '../../shared/contract';
import type { Result } from '../../shared/errors';
import { createStudioApi } from '../../shared/studio-api';
import { useAssetCapabilityKey } from './lib/assets';

/**
 * Browser mode: when no preload has provided `window.studio` (Electron), connect to the loopback
 * WebSocket that `npm run serve` opened, using the per-run token from the URL fragment. The token
 * is moved to sessionStorage (this origin, this tab) and removed from the address bar so it does
 * not end up in history. It travels only as a WebSocket subprotocol, next to the Origin the server
 * checks: never in a cookie (cookies are shared by every server on 127.0.0.1) nor in a URL.
 */
const TOKEN_KEY = 'atelier.token';

function takeToken(): string | null {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromHash) {
    sessionStorage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export async function ensureStudio(): Promise<void> {
  if ('studio' in window && window.studio) return;
  // A restarted server prints a new link to the same origin; opened in this tab it only changes
  // the fragment, which reloads nothing: start again with the new token.
  window.addEventListener('hashchange', () => {
    if (new URLSearchParams(location.hash.slice(1)).has('token')) location.reload();
  });
  const token = takeToken();
  if (!token) {
    throw new Error('This page needs the link that "npm run serve" printed (it carries a one-time token).');
  }
  // Earlier versions kept the token in a cookie, which every server on 127.0.0.1 received: drop it.
  document.cookie = 'atelier_token=; path=/asset; max-age=0; SameSite=Strict';

  let socket: WebSocket | null = null;
  let nextId = 1;
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();

  const connect = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://${location.host}/ws`, ['atelier', `atelier-token.${token}`]);
      ws.onerror = () => reject(new Error('Could not reach Atelier. Is "npm run serve" still running?'));
      ws.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as { id?: number; result?: Result<unknown>; event?: EventName; payload?: unknown; hello?: { assetKey: string } };
        if (data.hello) {
          // Ready once the asset key is known, so the first render already has working image URLs.
          useAssetCapabilityKey(data.hello.assetKey);
          resolve(ws);
        } else if (data.event) {
          for (const callback of listeners.get(data.event) ?? []) callback(data.payload);
        } else if (typeof data.id === 'number' && data.result) {
          pending.get(data.id)?.(data.result);
          pending.delete(data.id);
        }
      };
      ws.onclose = () => {
        socket = null;
        for (const settle of pending.values()) {
          settle({ ok: false, error: { code: 'ENGINE_UNAVAILABLE', message: 'The connection to Atelier closed. Reload the page once "npm run serve" runs again.' } });
        }
        pending.clear();
      };
    });

  socket = await connect();

  const invoke = async (name: CallName, input: unknown): Promise<Result<unknown>> => {
    socket ??= await connect();
    const id = nextId++;
    const open = socket;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      open.send(JSON.stringify({ id, name, input }));
    });
  };
  const subscribe = (event: EventName, callback: (payload: unknown) => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(callback);
    return () => {
      set.delete(callback);
    };
  };
  Object.defineProperty(window, 'studio', { value: createStudioApi(invoke, subscribe), configurable: false, writable: false });
}
