import { z } from 'zod';
import { calls, type CallArgs, type CallName, type CallOutput } from '../../shared/contract';
import { toErrorShape, type Result } from '../../shared/errors';

/** Who is calling: the transport fills this in after its own sender/token check. */
export interface CallContext {
  transport: 'ipc' | 'websocket' | 'cli';
}

export type Handlers = {
  [N in CallName]: (input: CallArgs<N>, ctx: CallContext) => Promise<CallOutput<N>> | CallOutput<N>;
};

export type Dispatch = (name: unknown, input: unknown, ctx: CallContext) => Promise<Result<unknown>>;

function describeIssues(error: z.ZodError): string {
  const lines = error.issues.slice(0, 5).map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : 'input';
    return `${where}: ${issue.message}`;
  });
  return lines.join('; ');
}

/**
 * The one wrapper every transport uses: unknown names and malformed inputs are refused with a
 * stable code before any handler runs; handler errors become `{ ok: false, error }` envelopes; and
 * outputs are checked against the contract too, so a handler cannot silently drift from it.
 */
export function createDispatcher(handlers: Handlers): Dispatch {
  return async (name, input, ctx) => {
    if (typeof name !== 'string' || !Object.hasOwn(calls, name)) {
      return { ok: false, error: { code: 'UNKNOWN_CALL', message: `There is no call named ${JSON.stringify(String(name)).slice(0, 80)}.` } };
    }
    const callName = name as CallName;
    const spec = calls[callName];
    const parsed = spec.input.safeParse(input);
    if (!parsed.success) {
      return { ok: false, error: { code: 'INVALID_INPUT', message: `Invalid input for ${callName}: ${describeIssues(parsed.error)}` } };
    }
    try {
      const handler = handlers[callName] as (input: unknown, ctx: CallContext) => Promise<unknown> | unknown;
      const value = await handler(parsed.data, ctx);
      const checked = spec.output.safeParse(value);
      if (!checked.success) {
        return { ok: false, error: { code: 'INTERNAL', message: `${callName} produced a result that does not match the contract: ${describeIssues(checked.error)}` } };
      }
      return { ok: true, value: checked.data };
    } catch (error) {
      return { ok: false, error: toErrorShape(error) };
    }
  };
}
