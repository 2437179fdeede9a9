import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { generateText } from '../../../src/engine/text/generate';
import { filterRow } from '../../../src/engine/text/sampling';
import { StudioError } from '../../../src/shared/errors';
import { TextParams } from '../../../src/shared/params';
import { getFixtures, recordingHooks, tempDir } from './helpers';

function oracleSentence(dir: string): string {
  const oracle: unknown = JSON.parse(readFileSync(path.join(dir, 'oracle.json'), 'utf8'));
  if (!oracle || typeof oracle !== 'object' || typeof (oracle as { sentence?: unknown }).sentence !== 'string') throw new Error('oracle.json has no sentence');
  return (oracle as { sentence: string }).sentence;
}

const ctx = createEngineContext({ provider: 'cpu' });

describe('text generation', () => {
  it('streams exactly the oracle sentence with greedy decoding (gpt2 config) and writes it to a .txt', async () => {
    const f = await getFixtures();
    const hooks = recordingHooks();
    const outDir = tempDir();
    const params = TextParams.parse({ model: 'oracle', prompt: 'The harbour at dawn', temperature: 0, maxNewTokens: 40 });
    const result = await generateText(f.textOracle, params, { ctx, hooks, outDir });
    const sentence = oracleSentence(f.textOracle);
    expect(hooks.tokens.map((t) => t.text).join('')).toBe(sentence);
    expect(result.text).toBe(sentence);
    // token counts grow and end at the number of generated tokens
    const counts = hooks.tokens.map((t) => t.tokens);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(result.tokens).toBeGreaterThanOrEqual(counts.at(-1)!);
    expect(result.seed).toBeNull();
    expect(result.provider).toBe('cpu');
    expect(result.outputs).toEqual([{ path: path.join(outDir, 'text.txt'), mime: 'text/plain; charset=utf-8', role: 'text' }]);
    expect(readFileSync(path.join(outDir, 'text.txt'), 'utf8')).toBe(sentence);
    expect(result.timings['timeToFirstTokenMs']).toBeGreaterThan(0);
    expect(result.timings['tokensPerSecond']).toBeGreaterThan(0);
  });

  it('uses the chat template for an action and still decodes the oracle (llama config)', async () => {
    const f = await getFixtures();
    const hooks = recordingHooks();
    const params = TextParams.parse({ model: 'oracle-chat', prompt: 'A draft paragraph.', action: 'rewrite', notes: 'Mara keeps the lighthouse.', temperature: 0 });
    const result = await generateText(f.textOracleChat, params, { ctx, hooks, outDir: tempDir() });
    expect(result.meta).toMatchObject({ chatTemplate: true });
    expect(hooks.tokens.map((t) => t.text).join('')).toBe(oracleSentence(f.textOracleChat));
  });

  it('fails with the reason when CUDA is forced and unavailable, without generating on the CPU', async () => {
    const f = await getFixtures();
    const cudaCtx = createEngineContext({ provider: 'cuda' });
    const cuda = await cudaCtx.registry.check('cuda');
    const hooks = recordingHooks();
    const run = generateText(f.textOracle, TextParams.parse({ model: 'o', prompt: 'x', temperature: 0 }), { ctx: cudaCtx, hooks, outDir: tempDir() });
    if (cuda.available) {
      expect((await run).provider).toBe('cuda');
    } else {
      await expect(run).rejects.toSatisfy((e: unknown) => e instanceof StudioError && e.code === 'PROVIDER_UNAVAILABLE' && e.message.includes('CUDA unavailable: '));
      expect(hooks.tokens).toEqual([]);
    }
  });

  it.each(['textGpt2', 'textLlama', 'textExternal'] as const)('samples reproducibly with a seed (%s)', async (name) => {
    const f = await getFixtures();
    const params = TextParams.parse({ model: name, prompt: 'Once', temperature: 0.9, topP: 0.9, topK: 20, seed: 1234, maxNewTokens: 12 });
    const a = await generateText(f[name], params, { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const b = await generateText(f[name], params, { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const c = await generateText(f[name], { ...params, seed: 99 }, { ctx, hooks: recordingHooks(), outDir: tempDir() });
    expect(a.seed).toBe(1234);
    expect(a.tokens).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
    expect(c.text).not.toBe(a.text);
  });

  it('trims a prompt longer than the context, keeping its end', async () => {
    const f = await getFixtures();
    const long = 'word '.repeat(5000) + 'the very end';
    const result = await generateText(f.textOracle, TextParams.parse({ model: 'o', prompt: long, temperature: 0, maxNewTokens: 16 }), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const meta = result.meta as { trimmedPrompt: boolean; promptTokens: number; contextLength: number };
    expect(meta.trimmedPrompt).toBe(true);
    expect(meta.promptTokens + 16).toBeLessThanOrEqual(meta.contextLength);
  });

  it('sends text progress throttled (first, every ~100 ms, final) and ends at the generated token count', async () => {
    const f = await getFixtures();
    const hooks = recordingHooks();
    const params = TextParams.parse({ model: 'o', prompt: 'x', temperature: 0, maxNewTokens: 40 });
    const started = performance.now();
    const result = await generateText(f.textOracle, params, { ctx, hooks, outDir: tempDir() });
    const elapsed = performance.now() - started;
    const steps = hooks.progress.filter((p) => p.message === undefined);
    // loading message + first token + at most one per 100 ms + the final one
    expect(steps.length).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 100));
    expect(steps.at(-1)).toMatchObject({ step: result.tokens, totalSteps: 40 });
    // every token's text arrives, in order, in at most one message per token
    expect(hooks.tokens.length).toBeLessThanOrEqual(result.tokens!);
    expect(hooks.tokens.map((t) => t.text).join('')).toBe(result.text);
  });

  it('stops before the next token when cancelled', async () => {
    const f = await getFixtures();
    const hooks = recordingHooks((_text, _count, h) => h.controller.abort());
    const params = TextParams.parse({ model: 'o', prompt: 'x', temperature: 0, maxNewTokens: 40 });
    const run = generateText(f.textOracle, params, { ctx, hooks, outDir: tempDir() });
    await expect(run).rejects.toSatisfy((e: unknown) => e instanceof StudioError && e.code === 'CANCELLED');
    expect(hooks.tokens).toHaveLength(1);
    expect(hooks.tokens[0]!.text.length).toBeLessThan(oracleSentence(f.textOracle).length);
  });
});

describe('top-k / top-p filter', () => {
  it('keeps the top-k, then the smallest nucleus reaching top_p', () => {
    const row = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
    filterRow(row, 0, 0.7);
    expect(Array.from(row.slice(0, 2)).every(Number.isFinite)).toBe(true);
    expect(row[2]).toBe(-Infinity);
    expect(row[3]).toBe(-Infinity);
    const row2 = new Float32Array([1, 4, 3, 2]);
    filterRow(row2, 2, 1);
    expect(Array.from(row2)).toEqual([-Infinity, 4, 3, -Infinity]);
  });
});
