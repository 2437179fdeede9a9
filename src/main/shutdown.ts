import { randomUUID } from 'node:crypto';

/** How long quitting waits, in all, for the windows' pending saves and for the studio to close. */
export const QUIT_BOUND_MS = 3000;

/**
 * Asks that went out to the windows ("save what you have pending") and the answers that came back
 * through the app.readyToQuit call. One instance serves the process: the call's handler answers into
 * it and whoever quits asks through it.
 */
export class SaveRequests {
  private readonly open = new Map<string, { missing: number; answered(): void }>();

  /**
   * Opens an ask that `expected` answers settle; the caller sends `quitId` to the windows. `answered`
   * resolves once all of them answered (at once for none); it never rejects, so bound the wait.
   */
  ask(expected: number): { quitId: string; answered: Promise<void> } {
    const quitId = randomUUID();
    if (expected <= 0) return { quitId, answered: Promise.resolve() };
    const answered = new Promise<void>((resolve) => {
      this.open.set(quitId, {
        missing: expected,
        answered: () => {
          this.open.delete(quitId);
          resolve();
        },
      });
    });
    return { quitId, answered };
  }

  /** One window's answer. False for an id that is not open (late, repeated or made up). */
  answer(quitId: string): boolean {
    const ask = this.open.get(quitId);
    if (!ask) return false;
    ask.missing--;
    if (ask.missing === 0) ask.answered();
    return true;
  }

  /** Stops waiting for an ask (it timed out): later answers to it are ignored. */
  forget(quitId: string): void {
    this.open.delete(quitId);
  }
}

export const rendererSaves = new SaveRequests();

/**
 * Calls a transport is still handling. A window that closes sends its last save as it goes; quitting
 * lets such a call finish before the library closes under it.
 */
export class CallsInFlight {
  private readonly calls = new Set<Promise<unknown>>();

  track<T>(call: Promise<T>): Promise<T> {
    this.calls.add(call);
    const done = () => this.calls.delete(call);
    call.then(done, done);
    return call;
  }

  /** Resolves when every call in flight now has settled, whether it succeeded or not. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.calls]);
  }
}

export interface ShutdownSteps {
  /** Everything the windows still have to save reaches the library. */
  save(): Promise<void>;
  /** Closes the studio (queue paused, engine stopped, database closed). */
  close(): Promise<void>;
}

/** Whether each step finished; false when it failed or was still running at its bound. */
export interface ShutdownOutcome {
  saved: boolean;
  closed: boolean;
}

export interface ShutdownBounds {
  /** Both steps together (default QUIT_BOUND_MS). */
  boundMs?: number;
  /** The end of the bound kept for closing, however long saving takes (default 500 ms). */
  closeReserveMs?: number;
  log?(message: string): void;
}

/**
 * Saves, then closes, within one bound for both: a window or a close that hangs must not keep the
 * app from quitting. Saving may use the bound less a reserve that closing always gets, so a save
 * that runs out of time still leaves the database a chance to close cleanly. Never rejects.
 */
export async function shutDownWithin(steps: ShutdownSteps, bounds: ShutdownBounds = {}): Promise<ShutdownOutcome> {
  const boundMs = bounds.boundMs ?? QUIT_BOUND_MS;
  const saveBoundMs = Math.max(0, boundMs - (bounds.closeReserveMs ?? 500));
  const log = bounds.log ?? (() => {});
  const timers: ReturnType<typeof setTimeout>[] = [];
  const deadline = (ms: number) =>
    new Promise<'timed out'>((resolve) => {
      timers.push(setTimeout(() => resolve('timed out'), ms));
    });
  const saveDeadline = deadline(saveBoundMs);
  const closeDeadline = deadline(boundMs);
  const attempt = async (what: string, step: () => Promise<void>, until: Promise<'timed out'>, ms: number): Promise<boolean> => {
    const work = Promise.resolve()
      .then(step)
      .then(
        () => 'done' as const,
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      );
    const result = await Promise.race([work, until]);
    if (result === 'done') return true;
    log(result === 'timed out' ? `${what} did not finish within ${ms} ms; quitting anyway` : `${what} failed: ${result.message}`);
    return false;
  };
  try {
    const saved = await attempt('saving', () => steps.save(), saveDeadline, saveBoundMs);
    const closed = await attempt('closing the studio', () => steps.close(), closeDeadline, boundMs);
    return { saved, closed };
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}
