import { describe, expect, it } from 'vitest';
import { ContractViolation, createDispatcher, type Handlers } from '../../../../src/main/ipc/dispatch';
import { calls, type CallName } from '../../../../src/shared/contract';

/**
 * Handlers for every call that fail loudly if called, with the ones a test needs replaced. Built
 * from the contract so that it stays complete as calls are added.
 */
function handlersWith(overrides: Partial<Handlers>): Handlers {
  const all: Record<string, unknown> = {};
  for (const name of Object.keys(calls) as CallName[]) {
    all[name] = () => {
      throw new Error(`${name} was not expected in this test`);
    };
  }
  return Object.assign(all, overrides) as Handlers;
}

describe('createDispatcher', () => {
  it('throws a ContractViolation for a result outside the contract under tests, by default', async () => {
    const writes: string[] = [];
    const dispatch = createDispatcher(
      handlersWith({
        'documents.delete': ({ id }) => {
          writes.push(id);
          // A drifting handler: the contract says { id: string }.
          return JSON.parse(`{ "id": ${JSON.stringify(id.length)} }`) as { id: string };
        },
      }),
    );
    await expect(dispatch('documents.delete', { id: 'doc-1' }, { transport: 'ipc' })).rejects.toSatisfy(
      (e: unknown) => e instanceof ContractViolation && e.callName === 'documents.delete' && /id: .*string/i.test(e.message),
    );
    expect(writes).toEqual(['doc-1']);
  });

  it('outside tests answers INTERNAL saying the change may already be saved', async () => {
    const dispatch = createDispatcher(
      handlersWith({ 'documents.delete': () => JSON.parse('{ "id": 7 }') as { id: string } }),
      { strictOutputs: false },
    );
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(...args);
    try {
      const result = await dispatch('documents.delete', { id: 'doc-1' }, { transport: 'ipc' });
      expect(result).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: expect.stringMatching(/may already be saved/) } });
    } finally {
      console.error = original;
    }
    expect(errors.some((e) => e instanceof ContractViolation)).toBe(true);
  });

  it('keeps answering handler errors and bad input with envelopes, strict or not', async () => {
    const dispatch = createDispatcher(handlersWith({}), { strictOutputs: true });
    expect(await dispatch('documents.delete', { id: 'doc-1' }, { transport: 'ipc' })).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(await dispatch('documents.delete', { nope: 1 }, { transport: 'ipc' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await dispatch('no.such.call', {}, { transport: 'ipc' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CALL' } });
  });
});
