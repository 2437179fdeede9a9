import { CALL_NAMES, type CallInput, type CallName, type CallOutput, type EventName, type EventPayload } from './contract';
import { StudioError, type Result } from './errors';

/**
 * `window.studio`: one async method per call, grouped by namespace (`studio.jobs.start(…)`), and
 * `studio.on(event, cb)` which returns an unsubscribe function and hands the callback the payload only.
 * Calls resolve with the value or reject with a StudioError carrying a stable code.
 */
type Namespace<N extends string> = N extends `${infer NS}.${string}` ? NS : never;
type Method<N extends string, NS extends string> = N extends `${NS}.${infer M}` ? M : never;

export type StudioApi = {
  [NS in Namespace<CallName>]: {
    [M in Method<CallName, NS>]: `${NS}.${M}` extends infer N extends CallName
      ? (input?: CallInput<N>) => Promise<CallOutput<N>>
      : never;
  };
} & {
  on<E extends EventName>(event: E, callback: (payload: EventPayload<E>) => void): () => void;
};

export type Invoke = (name: CallName, input: unknown) => Promise<Result<unknown>>;
export type Subscribe = (event: EventName, callback: (payload: unknown) => void) => () => void;

export function createStudioApi(invoke: Invoke, subscribe: Subscribe): StudioApi {
  const api: Record<string, Record<string, (input?: unknown) => Promise<unknown>>> = {};
  for (const name of CALL_NAMES) {
    const [ns, method] = name.split('.') as [string, string];
    api[ns] ??= {};
    api[ns][method] = async (input?: unknown) => {
      const result = await invoke(name, input ?? {});
      if (result.ok) return result.value;
      throw new StudioError(result.error.code, result.error.message);
    };
  }
  const on = (event: EventName, callback: (payload: unknown) => void) => subscribe(event, callback);
  return Object.freeze({ ...api, on }) as unknown as StudioApi;
}
