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

/** Answers every call with an envelope; rejects only with a ContractViolation in strict mode. */
export type Dispatch = (name: unknown, input: unknown, ctx: CallContext) => Promise<Result<unknown>>;

function describeIssues(error: z.ZodError): string {
  const lines = error.issues.slice(0, 5).map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : 'input';
    return `${where}: ${issue.message}`;
  });
  return lines.join('; ');
}

/** A handler returned what the contract does not allow: a bug in Atelier, never the caller's fault. */
export class ContractViolation extends Error {
  constructor(readonly callName: CallName, detail: string) {
    super(`${callName} produced a result that does not match the contract: ${detail}`);
    this.name = 'ContractViolation';
  }
}

export interface DispatcherOptions {
  /**
   * Throw a ContractViolation (the dispatch rejects) instead of answering INTERNAL when a result
   * does not match the contract. On by default under tests and in development, so a drifting
   * handler fails the test that calls it rather than reaching people.
   */
  strictOutputs?: boolean;
}

function strictByDefault(): boolean {
  return process.env.VITEST !== undefined || process.env.NODE_ENV === 'test' || process.env.NODE_ENV === 'development';
}

/**
 * The one wrapper every transport uses: unknown names and malformed inputs are refused with a
 * stable code before any handler runs; handler errors become `{ ok: false, error }` envelopes; and
 * outputs are checked against the contract too, so a handler cannot silently drift from it.
 * The output check can only run after the handler did its work, so handlers that write check
 * what they will return before writing (see settings.set); a mismatch that still gets through
 * throws under tests and, for people, says that the change may already be saved.
 */
export function createDispatcher(handlers: Handlers, options: DispatcherOptions = {}): Dispatch {
  const strict = options.strictOutputs ?? strictByDefault();
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
    let value: unknown;
    try {
      const handler = handlers[callName] as (input: unknown, ctx: CallContext) => Promise<unknown> | unknown;
      value = await handler(parsed.data, ctx);
    } catch (error) {
      return { ok: false, error: toErrorShape(error) };
    }
    const checked = spec.output.safeParse(value);
    if (checked.success) return { ok: true, value: checked.data };
    const violation = new ContractViolation(callName, describeIssues(checked.error));
    if (strict) throw violation;
    console.error(violation);
    return {
      ok: false,
      error: { code: 'INTERNAL', message: `${violation.message}. What ${callName} changed may already be saved: reload the view before trying again.` },
    };
  };
}
