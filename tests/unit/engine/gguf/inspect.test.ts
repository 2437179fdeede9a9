import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ggufParts, locateGguf } from '../../../../src/engine/gguf/files';
import { inspectGguf } from '../../../../src/engine/gguf/inspect';
import { gpuChoiceFor, llamaBackend, llamaThreads } from '../../../../src/engine/gguf/runtime';
import { createEngineContext } from '../../../../src/engine/runtime/context';
import { EngineServer } from '../../../../src/engine/server';
import type { EngineMessage, ModelInspection, RunResult } from '../../../../src/shared/engine-protocol';
import { getFixtures, tempDir } from '../helpers';

function truncatedCopy(source: string, keep: number): string {
  const file = path.join(tempDir(), 'truncated.gguf');
  writeFileSync(file, readFileSync(source).subarray(0, keep));
  return file;
}

describe('GGUF inspection', () => {
  it('accepts the fixture as a llama text model and lists its one file', async () => {
    const { ggufLlama } = await getFixtures();
    const inspection = await inspectGguf(ggufLlama);
    expect(inspection).toMatchObject({ kind: 'text', ok: true, problems: [], architecture: 'gguf:llama' });
    expect(inspection.files).toEqual([{ path: path.basename(ggufLlama), bytes: readFileSync(ggufLlama).length }]);
  });

  it('refuses a file cut inside its tensor data, saying it is truncated', async () => {
    const { ggufLlama } = await getFixtures();
    const size = readFileSync(ggufLlama).length;
    const inspection = await inspectGguf(truncatedCopy(ggufLlama, size - 4096));
    expect(inspection.ok).toBe(false);
    expect(inspection.problems.join(' ')).toMatch(/truncated.*download it again/);
  });

  it('refuses a file cut inside its header, and a file that is not GGUF at all', async () => {
    const { ggufLlama } = await getFixtures();
    const header = await inspectGguf(truncatedCopy(ggufLlama, 2000));
    expect(header.ok).toBe(false);
    expect(header.problems.join(' ')).toMatch(/truncated inside its header.*download it again/);
    const junk = path.join(tempDir(), 'junk.gguf');
    writeFileSync(junk, Buffer.from('this is a text file, not a model\n'.repeat(10)));
    const notGguf = await inspectGguf(junk);
    expect(notGguf.ok).toBe(false);
    expect(notGguf.problems.join(' ')).toMatch(/not a readable GGUF file/);
  });

  it('finds the model in a folder, ignores vision projectors, and asks which one when there are several', async () => {
    const { ggufLlama } = await getFixtures();
    const dir = tempDir();
    copyFileSync(ggufLlama, path.join(dir, 'model-Q8_0.gguf'));
    writeFileSync(path.join(dir, 'mmproj-model-f16.gguf'), 'projector');
    expect(locateGguf(dir)).toEqual({ kind: 'file', file: path.join(dir, 'model-Q8_0.gguf') });
    expect((await inspectGguf(dir)).ok).toBe(true);
    copyFileSync(ggufLlama, path.join(dir, 'model-Q4_K_M.gguf'));
    const several = await inspectGguf(dir);
    expect(several.ok).toBe(false);
    expect(several.problems[0]).toMatch(/several GGUF models.*model-Q4_K_M\.gguf.*model-Q8_0\.gguf/);
    // a transformers.js folder is never read as GGUF
    const onnx = tempDir();
    writeFileSync(path.join(onnx, 'config.json'), '{}');
    copyFileSync(ggufLlama, path.join(onnx, 'stray.gguf'));
    expect(locateGguf(onnx)).toEqual({ kind: 'none' });
  });

  it('names every part of a split model from its first part', () => {
    expect(ggufParts('/m/big-00001-of-00003.gguf')).toEqual(['/m/big-00001-of-00003.gguf', '/m/big-00002-of-00003.gguf', '/m/big-00003-of-00003.gguf']);
    expect(ggufParts('/m/one.gguf')).toEqual(['/m/one.gguf']);
  });
});

describe('llama.cpp backend choice', () => {
  it('maps the provider setting onto llama.cpp GPU backends, saying so where the ONNX provider has none', () => {
    expect(gpuChoiceFor('cpu')).toEqual({ gpu: false });
    expect(gpuChoiceFor('cuda')).toEqual({ gpu: 'cuda' });
    expect(gpuChoiceFor('auto')).toEqual({ gpu: 'auto' });
    expect(gpuChoiceFor('coreml').gpu).toBe('metal');
    expect(gpuChoiceFor('dml')).toMatchObject({ gpu: 'vulkan', note: expect.stringMatching(/no DirectML/) });
  });

  it('a GPU backend chosen in Settings is used alone: where it cannot load, the job fails with the reason (no silent CPU)', async () => {
    const { getLlamaGpuTypes } = await import('node-llama-cpp');
    const supported = await getLlamaGpuTypes('supported');
    const outcome = await llamaBackend('cuda').then(
      (backend) => backend.provider,
      (error: unknown) => error,
    );
    // Either CUDA runs, or the job is refused with the reason: never a silent CPU run.
    if (typeof outcome === 'string') expect(outcome).toBe('cuda');
    else expect(outcome).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringMatching(/cannot use cuda.*Settings/) });
    // Where node-llama-cpp sees no CUDA at all, the reason names what is missing.
    if (!supported.includes('cuda')) expect(outcome).toMatchObject({ message: expect.stringMatching(/CUDA 13 runtime/) });
  });

  it('uses the configured threads, else leaves a core free (at least 1)', () => {
    expect(llamaThreads({ provider: 'cpu', intraOpThreads: 3, memoryBudgetMb: 0 })).toBe(3);
    const auto = llamaThreads({ provider: 'cpu', intraOpThreads: 0, memoryBudgetMb: 0 });
    expect(auto).toBeGreaterThanOrEqual(1);
    expect(auto).toBeLessThanOrEqual(Math.max(1, os.availableParallelism() - 1));
  });
});

describe('the engine with a damaged GGUF', () => {
  it('refuses it at inspection and at run with the reason, and keeps serving the good model', async () => {
    const { ggufLlama } = await getFixtures();
    const messages: EngineMessage[] = [];
    const server = new EngineServer((m) => messages.push(m), createEngineContext({ provider: 'cpu', intraOpThreads: 1 }));
    const reply = async (seq: number) => {
      for (;;) {
        const found = messages.find((m): m is Extract<EngineMessage, { type: 'reply' }> => m.type === 'reply' && m.seq === seq);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const bad = truncatedCopy(ggufLlama, readFileSync(ggufLlama).length - 4096);
    server.handle({ seq: 1, type: 'inspect', modelDir: bad });
    const inspected = await reply(1);
    expect(inspected.ok && (inspected.value as ModelInspection).ok).toBe(false);

    const outDir = tempDir();
    mkdirSync(outDir, { recursive: true });
    server.handle({ seq: 2, type: 'run', jobId: 'bad', modelDir: bad, outDir, run: { kind: 'text', params: { model: 'bad', prompt: 'Once', temperature: 0, maxNewTokens: 4 } } });
    const refused = await reply(2);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe('MODEL_INVALID');
      expect(refused.error.message).toMatch(/truncated/);
    }

    server.handle({ seq: 3, type: 'run', jobId: 'good', modelDir: ggufLlama, outDir, run: { kind: 'text', params: { model: 'good', prompt: 'Once', temperature: 0, maxNewTokens: 4 } } });
    const served = await reply(3);
    expect(served.ok).toBe(true);
    if (served.ok) expect((served.value as RunResult).tokens).toBe(4);
    server.handle({ seq: 4, type: 'unload' });
    await reply(4);
  });
});
