import { describe, expect, it } from 'vitest';
import { progressLine } from '../../../src/main/cli/progress';

function sink(isTTY: boolean) {
  const out = { isTTY, text: '', write: (chunk: string) => (out.text += chunk) };
  return out;
}

describe('CLI progress on stderr', () => {
  it('writes a line per tenth when stderr is a pipe or a file', () => {
    const stream = sink(false);
    const progress = progressLine(stream);
    for (let step = 1; step <= 503; step++) progress.update(step, 503);
    progress.end();
    const lines = stream.text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(11); // 0 %, 10 %, … 100 %
    expect(lines[0]).toBe('step 1/503 (0%)');
    expect(lines.at(-1)).toBe('step 503/503 (100%)');
    expect(stream.text).not.toContain('\r');
  });

  it('updates one line in place on a terminal and ends it with a newline', () => {
    const stream = sink(true);
    const progress = progressLine(stream);
    for (let step = 1; step <= 4; step++) progress.update(step, 4);
    progress.end();
    expect(stream.text.split('\r').filter(Boolean)).toHaveLength(4);
    expect(stream.text.endsWith('step 4/4 (100%)\u001b[K\n')).toBe(true);
  });

  it('says nothing with --quiet', () => {
    const stream = sink(false);
    const progress = progressLine(stream, { quiet: true });
    progress.update(1, 2);
    progress.end();
    expect(stream.text).toBe('');
  });
});
