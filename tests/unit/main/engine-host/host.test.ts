import { describe, expect, it } from 'vitest';
import { EngineHost } from '../../../../src/main/engine-host/host';
import type { EngineChild, EngineExit } from '../../../../src/main/engine-host/types';
import type { EngineMessage, EngineRequest } from '../../../../src/shared/engine-protocol';
import { StudioError } from '../../../../src/shared/errors';

/** An engine process in memory: the test decides whether it ever says ready, and how it answers. */
class FakeEngine implements EngineChild {
  readonly sent: EngineRequest[] = [];
  killed = false;
  private readonly messageListeners: ((message: EngineMessage) => void)[] = [];
  private readonly exitListeners: ((exit: EngineExit) => void)[] = [];

  constructor(
    readonly pid: number,
    private readonly answers: boolean,
  ) {}

  send(message: EngineRequest): void {
    this.sent.push(message);
    if (this.answers) queueMicrotask(() => this.say({ type: 'reply', seq: message.seq, ok: true, value: { answeredBy: this.pid } }));
  }

  onMessage(listener: (message: EngineMessage) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (exit: EngineExit) => void): void {
    this.exitListeners.push(listener);
  }

  kill(): void {
    this.killed = true;
  }

  say(message: EngineMessage): void {
    for (const listener of this.messageListeners) listener(message);
  }

  exit(exit: EngineExit): void {
    for (const listener of this.exitListeners) listener(exit);
  }
}

describe('EngineHost start-up timeout', () => {
  it('kills an engine that never says ready, fails that request with ENGINE_UNAVAILABLE and serves the next request from a fresh engine', async () => {
    const hung = new FakeEngine(101, false);
    const healthy = new FakeEngine(102, true);
    const children = [hung, healthy];
    let spawned = 0;
    const crashes: EngineExit[] = [];
    const streamed: EngineMessage[] = [];
    const host = new EngineHost(
      () => {
        const child = children[spawned++];
        if (!child) throw new Error('spawned more engines than the test expected');
        // the healthy engine says ready as soon as the host listens
        if (child === healthy) queueMicrotask(() => child.say({ type: 'ready', pid: child.pid }));
        return child;
      },
      { readyTimeoutMs: 5, onCrash: (exit) => crashes.push(exit), onStream: (message) => streamed.push(message), backoffMs: [0] },
    );

    const first = await host.request({ type: 'status' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(first).toBeInstanceOf(StudioError);
    expect(first).toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: expect.stringMatching(/did not start.*next request starts a fresh engine/) });
    expect(hung.killed).toBe(true);
    expect(host.pid).toBeUndefined();

    // The killed engine's exit arrives late: it is a replaced child, not a crash of the current engine.
    hung.exit({ code: null, signal: 'SIGKILL', reason: 'killed by SIGKILL' });
    expect(crashes).toEqual([]);
    expect(spawned).toBe(1);

    await expect(host.request({ type: 'status' })).resolves.toEqual({ answeredBy: 102 });
    expect(spawned).toBe(2);
    expect(host.pid).toBe(102);
    expect(healthy.killed).toBe(false);

    // Late output from the killed engine reaches nobody; the current engine's does.
    hung.say({ type: 'log', level: 'info', message: 'from the killed engine' });
    healthy.say({ type: 'log', level: 'info', message: 'from the current engine' });
    expect(streamed).toEqual([{ type: 'log', level: 'info', message: 'from the current engine' }]);
    await host.stop();
  });
});
