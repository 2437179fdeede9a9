import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallsInFlight, QUIT_BOUND_MS, SaveRequests, shutDownWithin, type ShutdownOutcome } from '../../../src/main/shutdown';

/** A promise the test settles by hand. */
function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run (no timer moves). */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** Watches a promise: `value` stays undefined until it resolves. */
function watch<T>(promise: Promise<T>): { value: T | undefined } {
  const seen: { value: T | undefined } = { value: undefined };
  void promise.then((value) => {
    seen.value = value;
  });
  return seen;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('shutDownWithin', () => {
  it('closes the studio only after the pending save, and finishes only after the close', async () => {
    const save = deferred();
    const close = deferred();
    const order: string[] = [];
    const outcome = watch(
      shutDownWithin({
        save: async () => {
          order.push('save started');
          await save.promise;
          order.push('saved');
        },
        close: async () => {
          order.push('close started');
          await close.promise;
          order.push('closed');
        },
      }),
    );

    await settle();
    expect(order).toEqual(['save started']);
    save.resolve();
    await settle();
    expect(order).toEqual(['save started', 'saved', 'close started']);
    expect(outcome.value).toBeUndefined();
    close.resolve();
    await settle();
    expect(order).toEqual(['save started', 'saved', 'close started', 'closed']);
    expect(outcome.value).toEqual({ saved: true, closed: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops waiting for a save that never finishes and still closes the studio, all within the bound', async () => {
    const close = vi.fn(async () => {});
    const log: string[] = [];
    const outcome = watch(shutDownWithin({ save: () => new Promise<void>(() => {}), close }, { boundMs: 3000, closeReserveMs: 500, log: (message) => log.push(message) }));

    await vi.advanceTimersByTimeAsync(2499);
    expect(close).not.toHaveBeenCalled();
    expect(outcome.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(close).toHaveBeenCalledOnce();
    expect(outcome.value).toEqual<ShutdownOutcome>({ saved: false, closed: true });
    expect(log).toEqual(['saving did not finish within 2500 ms; quitting anyway']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops waiting for a close that never finishes at the bound', async () => {
    const log: string[] = [];
    const outcome = watch(shutDownWithin({ save: async () => {}, close: () => new Promise<void>(() => {}) }, { log: (message) => log.push(message) }));
    await vi.advanceTimersByTimeAsync(QUIT_BOUND_MS - 1);
    expect(outcome.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome.value).toEqual<ShutdownOutcome>({ saved: true, closed: false });
    expect(log).toEqual([`closing the studio did not finish within ${QUIT_BOUND_MS} ms; quitting anyway`]);
  });

  it('closes the studio when saving fails, and says why', async () => {
    const log: string[] = [];
    const close = vi.fn(async () => {});
    const outcome = await shutDownWithin(
      {
        save: async () => {
          throw new Error('the window is gone');
        },
        close,
      },
      { log: (message) => log.push(message) },
    );
    expect(outcome).toEqual<ShutdownOutcome>({ saved: false, closed: true });
    expect(close).toHaveBeenCalledOnce();
    expect(log).toEqual(['saving failed: the window is gone']);
  });
});

describe('SaveRequests', () => {
  it('is answered once every window that was asked has answered with the ask’s id', async () => {
    const requests = new SaveRequests();
    const { quitId, answered } = requests.ask(2);
    const done = watch(answered.then(() => 'answered'));

    expect(requests.answer('some-other-id')).toBe(false);
    expect(requests.answer(quitId)).toBe(true);
    await settle();
    expect(done.value).toBeUndefined();
    expect(requests.answer(quitId)).toBe(true);
    await settle();
    expect(done.value).toBe('answered');
    expect(requests.answer(quitId)).toBe(false);
  });

  it('is answered at once when no window was asked, and ignores answers to a forgotten ask', async () => {
    const requests = new SaveRequests();
    await expect(requests.ask(0).answered).resolves.toBeUndefined();
    const { quitId } = requests.ask(1);
    requests.forget(quitId);
    expect(requests.answer(quitId)).toBe(false);
  });
});

describe('CallsInFlight', () => {
  it('settles when the calls in flight have settled, failed ones included', async () => {
    const calls = new CallsInFlight();
    const first = deferred();
    const second = deferred();
    const tracked = calls.track(first.promise);
    void calls.track(second.promise).catch(() => undefined);
    const settled = watch(calls.settled().then(() => 'settled'));

    first.resolve();
    await settle();
    expect(settled.value).toBeUndefined();
    second.reject(new Error('the call failed'));
    await settle();
    expect(settled.value).toBe('settled');
    await expect(tracked).resolves.toBeUndefined();
    await expect(calls.settled()).resolves.toBeUndefined();
  });
});
