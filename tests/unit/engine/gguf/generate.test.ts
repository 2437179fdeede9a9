import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getLlama, LlamaCompletion, type Llama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGgufText, unloadGgufModels } from '../../../../src/engine/gguf/generate';
import { createEngineContext } from '../../../../src/engine/runtime/context';
import { StudioError } from '../../../../src/shared/errors';
import { TextParams } from '../../../../src/shared/params';
import { getFixtures, recordingHooks, tempDir } from '../helpers';

const ctx = createEngineContext({ provider: 'cpu', intraOpThreads: 1 });
let gguf = '';
let direct: Llama;

/** node-llama-cpp used directly, the way its README shows, on the same file and prompt. */
async function directCompletion(prompt: string, options: Parameters<LlamaCompletion['generateCompletion']>[1]): Promise<string> {
  const model = await direct.loadModel({ modelPath: gguf });
  const context = await model.createContext({ contextSize: 1024, threads: 1 });
  try {
    return await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion(prompt, options);
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

beforeAll(async () => {
  gguf = (await getFixtures()).ggufLlama;
  direct = await getLlama({ gpu: false, build: 'never' });
});

afterAll(async () => {
  await unloadGgufModels(ctx);
});

const prompt = 'The lighthouse keeper found a map of the sea';

describe('GGUF text generation on llama.cpp', () => {
  it('greedy output through Atelier equals node-llama-cpp run directly on the same file and prompt, streamed and written to text.txt', async () => {
    const hooks = recordingHooks();
    const outDir = tempDir();
    const params = TextParams.parse({ model: gguf, prompt, temperature: 0, repetitionPenalty: 1, maxNewTokens: 24 });
    const result = await generateGgufText(gguf, params, { ctx, hooks, outDir });
    const expected = await directCompletion(prompt, { temperature: 0, maxTokens: 24, repeatPenalty: false });
    expect(expected.length).toBeGreaterThan(10);
    expect(result.text).toBe(expected);
    expect(hooks.tokens.map((t) => t.text).join('')).toBe(expected);
    expect(readFileSync(path.join(outDir, 'text.txt'), 'utf8')).toBe(expected);
    // the control tokens' output rows are zero: greedy runs reach the limit
    expect(result.tokens).toBe(24);
    expect(result.meta?.stopReason).toBe('maxTokens');
    expect(result.seed).toBeNull();
    expect(result.provider).toBe('cpu');
    expect(result.providerNote).toBeUndefined();
    expect(result.meta?.threads).toBe(1);
    expect(result.timings['timeToFirstTokenMs']).toBeGreaterThan(0);
    expect(result.timings['tokensPerSecond']).toBeGreaterThan(0);
  });

  it('a seeded sampled run reproduces (and matches node-llama-cpp with the same seed); another seed differs', async () => {
    const params = (seed: number) => TextParams.parse({ model: gguf, prompt, temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1, seed, maxNewTokens: 24 });
    const first = await generateGgufText(gguf, params(42), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const again = await generateGgufText(gguf, params(42), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const other = await generateGgufText(gguf, params(7), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    expect(first.seed).toBe(42);
    expect(again.text).toBe(first.text);
    expect(other.text).not.toBe(first.text);
    const expected = await directCompletion(prompt, { temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, seed: 42, maxTokens: 24, repeatPenalty: false });
    expect(first.text).toBe(expected);
  });

  it('a cancel mid-generation returns the text written so far, marked cancelled', async () => {
    const full = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt, temperature: 0, maxNewTokens: 64 }), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const hooks = recordingHooks((_text, _count, h) => {
      if (h.tokens.length === 2) h.controller.abort();
    });
    const result = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt, temperature: 0, maxNewTokens: 64 }), { ctx, hooks, outDir: tempDir() });
    expect(result.meta?.cancelled).toBe(true);
    expect(result.meta?.stopReason).toBe('cancelled');
    expect(result.tokens).toBeLessThan(64);
    expect(result.text!.length).toBeGreaterThan(0);
    expect(full.text!.startsWith(result.text!)).toBe(true);
    expect(hooks.tokens).toHaveLength(2);
  });

  it('a run cancelled before it starts is refused as CANCELLED, without output', async () => {
    const hooks = recordingHooks();
    hooks.controller.abort();
    await expect(generateGgufText(gguf, TextParams.parse({ model: gguf, prompt }), { ctx, hooks, outDir: tempDir() })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('"Continue" after "Continue" reuses the KV cache of the text it already read', async () => {
    const first = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt, temperature: 0, maxNewTokens: 8 }), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    const second = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt: prompt + first.text!, temperature: 0, maxNewTokens: 8 }), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    expect(second.meta?.promptTokens).toBeGreaterThan(Number(first.meta?.promptTokens));
    expect(second.meta?.reusedPromptTokens).toBeGreaterThanOrEqual(Number(first.meta?.promptTokens) - 1);
  });

  it('instruction actions go through the chat template from the GGUF metadata', async () => {
    const result = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt, action: 'rewrite', temperature: 0, maxNewTokens: 4 }), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    expect(result.meta?.chatTemplate).toBe(true);
    const plain = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt, temperature: 0, maxNewTokens: 4 }), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    expect(plain.meta?.chatTemplate).toBe(false);
    // <|im_start|>system … <|im_end|> … <|im_start|>assistant\n: far more tokens than the draft alone
    expect(Number(result.meta?.promptTokens)).toBeGreaterThan(Number(plain.meta?.promptTokens) + 10);
  });

  it('uses the context length set in Settings, and no GPU layers on the CPU', async () => {
    // As the engine's configure does when the setting changes: models loaded before are dropped.
    await unloadGgufModels(ctx);
    const small = createEngineContext({ provider: 'cpu', intraOpThreads: 1, llamaContextSize: 512 });
    try {
      const result = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt, temperature: 0, maxNewTokens: 2 }), { ctx: small, hooks: recordingHooks(), outDir: tempDir() });
      expect(result.meta).toMatchObject({ contextLength: 512, gpuLayers: 0 });
    } finally {
      await unloadGgufModels(small);
    }
    const plain = await generateGgufText(gguf, TextParams.parse({ model: gguf, prompt, temperature: 0, maxNewTokens: 2 }), { ctx, hooks: recordingHooks(), outDir: tempDir() });
    expect(plain.meta?.contextLength).toBe(1024); // the fixture's own (llama.context_length)
  });

  it('refuses a file that is not a GGUF model with MODEL_INVALID', async () => {
    const error = await generateGgufText(path.join(tempDir(), 'missing.gguf'), TextParams.parse({ model: 'x', prompt }), { ctx, hooks: recordingHooks(), outDir: tempDir() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StudioError);
    expect(error).toMatchObject({ code: 'MODEL_INVALID' });
  });
});
