import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { allFixtures, tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

async function atelier(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
}

async function fails(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    await atelier(args);
  } catch (error) {
    return error as { code: number; stdout: string; stderr: string };
  }
  throw new Error(`atelier ${args.join(' ')} should have failed`);
}

interface TextResult {
  generationId: string;
  text: string;
  tokens: number;
  provider: string;
}

describe('GGUF models from the command line', () => {
  let gguf = '';
  let library = '';

  beforeAll(async () => {
    gguf = (await allFixtures()).ggufLlama;
    library = tempDataDir('atelier-gguf-cli-');
  });

  it('imports a .gguf file in place, generates with it by id and by path, and refuses a truncated copy with the reason', async () => {
    const imported = JSON.parse((await atelier(['models', 'import', gguf, '--library', library, '--json'])).stdout) as { id: string; kind: string; path: string };
    expect(imported).toMatchObject({ id: 'tiny-llama-f32', kind: 'text', path: gguf });

    const args = ['--prompt', 'The lighthouse keeper', '--temperature', '0', '--max-new-tokens', '12', '--library', library, '--json'];
    const byId = JSON.parse((await atelier(['generate', 'text', '--model', imported.id, ...args])).stdout) as TextResult;
    expect(byId.tokens).toBe(12);
    expect(byId.text.length).toBeGreaterThan(0);
    expect(['cpu', 'cuda', 'vulkan', 'metal']).toContain(byId.provider);
    const byPath = JSON.parse((await atelier(['generate', 'text', '--model', gguf, ...args])).stdout) as TextResult;
    expect(byPath.text).toBe(byId.text);

    const truncated = path.join(library, 'broken.gguf');
    writeFileSync(truncated, readFileSync(gguf).subarray(0, readFileSync(gguf).length - 10_000));
    const refused = await fails(['models', 'import', truncated, '--library', library]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/This GGUF file is not a model Atelier can run.*truncated.*\[MODEL_INVALID\]/);
    const list = JSON.parse((await atelier(['models', 'list', '--library', library, '--json'])).stdout) as { items: { id: string; format?: string }[] };
    expect(list.items.map((m) => [m.id, m.format])).toEqual([[imported.id, 'gguf']]);
    // The table says what runs each model.
    expect((await atelier(['models', 'list', '--library', library])).stdout).toMatch(new RegExp(`^${imported.id} +text +gguf +[\\d.]+ MB  `, 'm'));
  });
});
