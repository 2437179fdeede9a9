import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEngineContext } from '../../../src/engine/runtime/context';
import { checkModelFile, digest } from '../../../src/engine/runtime/model-files';
import { StudioError } from '../../../src/shared/errors';
import { getFixtures, tempDir } from './helpers';

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StudioError) return { code: error.code, message: error.message };
    return { code: 'NOT_A_STUDIO_ERROR', message: String(error) };
  }
  return { code: 'RESOLVED', message: '' };
}

describe('model file checks', () => {
  it('rejects a truncated .onnx with MODEL_INVALID naming the file and what to do', async () => {
    const f = await getFixtures();
    const good = readFileSync(path.join(f.textGpt2, 'onnx/model.onnx'));
    const dir = tempDir();
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, good.subarray(0, Math.floor(good.length / 2)));
    const err = await codeOf(checkModelFile(file));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/truncated/);
    expect(err.message).toMatch(/download it again/);
  });

  it('rejects an empty, a garbage and a missing file', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'empty.onnx'), '');
    writeFileSync(path.join(dir, 'garbage.onnx'), 'this is not protobuf at all, just text that happens to be here');
    expect(await codeOf(checkModelFile(path.join(dir, 'empty.onnx')))).toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/empty \(0 bytes\)/) });
    expect(await codeOf(checkModelFile(path.join(dir, 'garbage.onnx')))).toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('garbage.onnx') });
    expect(await codeOf(checkModelFile(path.join(dir, 'missing.onnx')))).toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/missing/) });
  });

  it('caches the check by (path, size, mtime): a warm check reuses the facts, a rewritten file is checked again', async () => {
    const f = await getFixtures();
    const good = readFileSync(path.join(f.textGpt2, 'onnx/model.onnx'));
    const file = path.join(tempDir(), 'model.onnx');
    writeFileSync(file, good);
    utimesSync(file, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
    const first = await checkModelFile(file);
    expect(await checkModelFile(file)).toBe(first);
    // same size, other bytes, other mtime: the structure walk runs again and catches it
    writeFileSync(file, Buffer.alloc(good.length, 0xff));
    utimesSync(file, new Date(1_700_000_100_000), new Date(1_700_000_100_000));
    expect(await codeOf(checkModelFile(file))).toMatchObject({ code: 'MODEL_INVALID' });
  });

  it('counts external data in the size estimate and digests with sha256', async () => {
    const f = await getFixtures();
    const file = path.join(f.textExternal, 'onnx/model.onnx');
    const facts = await checkModelFile(file);
    expect(facts.externalFiles.map((p) => path.basename(p))).toEqual(['model.onnx_data']);
    expect(facts.externalBytes).toBeGreaterThan(0);
    expect(await digest(file)).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });
});

describe('SessionManager', () => {
  it('loads on CUDA when forced and it works, else fails with the reason; Automatic falls back to CPU saying why', async () => {
    const f = await getFixtures();
    const file = path.join(f.textGpt2, 'onnx/model.onnx');
    const ctx = createEngineContext({ provider: 'cuda' });
    const cuda = await ctx.registry.check('cuda');
    if (cuda.available) {
      expect((await ctx.sessions.load(file)).provider).toBe('cuda');
    } else {
      expect(await codeOf(ctx.sessions.load(file))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringContaining(cuda.reason ?? 'CUDA unavailable') });
    }
    const auto = createEngineContext({ provider: 'auto' });
    const loaded = await auto.sessions.load(file);
    if (!cuda.available) expect(loaded.providerNote).toMatch(/^CUDA unavailable: .*; ran on /);
    expect(loaded.session.inputNames).toContain('input_ids');
    // Cached: same object on the second call.
    expect(await auto.sessions.load(file)).toBe(loaded);
  });

  it('answers MODEL_INVALID for a corrupt file and keeps working afterwards', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    const bad = path.join(dir, 'model.onnx');
    const good = readFileSync(path.join(f.textLlama, 'onnx/model.onnx'));
    writeFileSync(bad, good.subarray(0, good.length - 100));
    const ctx = createEngineContext({ provider: 'cpu' });
    const err = await codeOf(ctx.sessions.load(bad));
    expect(err).toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining(bad) });
    const ok = await ctx.sessions.load(path.join(f.textLlama, 'onnx/model.onnx'));
    expect(ok.provider).toBe('cpu');
  });

  it('unloads the least recently used session when the memory budget would be exceeded', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    const files = ['a', 'b', 'c'].map((name) => {
      mkdirSync(path.join(dir, name));
      const target = path.join(dir, name, 'model.onnx');
      copyFileSync(path.join(f.textGpt2, 'onnx/model.onnx'), target);
      return target;
    });
    const size = readFileSync(files[0]!).length;
    // Room for two sessions, not three.
    const ctx = createEngineContext({ provider: 'cpu', memoryBudgetMb: (size * 2.5) / (1024 * 1024) });
    await ctx.sessions.load(files[0]!);
    await ctx.sessions.load(files[1]!);
    await ctx.sessions.load(files[0]!); // a is now the most recently used
    await ctx.sessions.load(files[2]!);
    const resident = ctx.resident.list().map((e) => e.key);
    expect(resident.some((k) => k.includes(`${path.sep}b${path.sep}`))).toBe(false);
    expect(resident.some((k) => k.includes(`${path.sep}a${path.sep}`))).toBe(true);
    expect(resident.some((k) => k.includes(`${path.sep}c${path.sep}`))).toBe(true);
    expect(ctx.resident.totalBytes()).toBeLessThanOrEqual(size * 2.5);
  });
});
