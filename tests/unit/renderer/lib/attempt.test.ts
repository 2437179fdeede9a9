import { describe, expect, it } from 'vitest';
import { attempt } from '../../../../src/renderer/src/lib/errors';

describe('attempt', () => {
  it('answers true for a call that succeeds, with busy on only while it runs and no error reported', async () => {
    const busy: boolean[] = [];
    const errors: string[] = [];
    let ranWhileBusy = false;
    const ok = await attempt(
      async () => {
        ranWhileBusy = busy.at(-1) === true;
      },
      { error: (message) => errors.push(message), busy: (on) => busy.push(on) },
    );
    expect(ok).toBe(true);
    expect(ranWhileBusy).toBe(true);
    expect(busy).toEqual([true, false]);
    expect(errors).toEqual([]);
  });

  it("answers false for a call that rejects, hands over the rejection's message and clears busy", async () => {
    const busy: boolean[] = [];
    const errors: string[] = [];
    const ok = await attempt(() => Promise.reject({ code: 'MODEL_NOT_INSTALLED', message: 'Install the model first.' }), {
      error: (message) => errors.push(message),
      busy: (on) => busy.push(on),
    });
    expect(ok).toBe(false);
    expect(errors).toEqual(['Install the model first.']);
    expect(busy).toEqual([true, false]);
  });

  it('reports a thrown value that is not an Error in words rather than throwing it on', async () => {
    const errors: string[] = [];
    await expect(
      attempt(
        () => {
          throw 'disk full';
        },
        { error: (message) => errors.push(message) },
      ),
    ).resolves.toBe(false);
    expect(errors).toEqual(['disk full']);
  });
});
