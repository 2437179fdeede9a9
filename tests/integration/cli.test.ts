import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { allFixtures, tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

async function atelier(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
}

async function fails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await atelier(args);
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`atelier ${args.join(' ')} should have failed`);
}

describe('the atelier command line', () => {
  let fx: Awaited<ReturnType<typeof allFixtures>>;
  let library: string;

  beforeAll(async () => {
    fx = await allFixtures();
    library = tempDataDir('atelier-cli-');
  });

  it('streams only the generated text to stdout, greedy with --temperature 0', async () => {
    const { stdout, stderr } = await atelier(['generate', 'text', '--library', library, '--model', fx.textOracle, '--prompt', 'Begin.', '--temperature', '0', '--max-new-tokens', '40']);
    const oracle = JSON.parse(readFileSync(path.join(fx.textOracle, 'oracle.json'), 'utf8')) as { sentence: string };
    expect(stdout).toBe(`${oracle.sentence}\n`);
    // Progress went to stderr, a line per tenth (stderr is a pipe here), never glued together with \r.
    const progress = stderr.split('\n').filter((line) => line.startsWith('step '));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThanOrEqual(11);
    expect(stderr).not.toContain('\r');
    const quiet = await atelier(['generate', 'text', '--quiet', '--library', library, '--model', fx.textOracle, '--prompt', 'Begin.', '--temperature', '0', '--max-new-tokens', '40']);
    expect(quiet.stdout).toBe(`${oracle.sentence}\n`);
    expect(quiet.stderr).not.toMatch(/^step /m);
  });

  for (const variant of ['textGpt2', 'textLlama', 'textExternal'] as const) {
    it(`generates with the ${variant} fixture and prints { generationId, text, tokens, provider } with --json`, async () => {
      const { stdout } = await atelier(['generate', 'text', '--library', library, '--model', fx[variant], '--prompt', 'Hello', '--max-new-tokens', '8', '--seed', '5', '--json']);
      const result = JSON.parse(stdout) as { generationId: string; text: string; tokens: number; provider: string };
      expect(result.generationId).toMatch(/^[0-9A-Z]{26}$/);
      expect(result.text.length).toBeGreaterThan(0);
      expect(result.tokens).toBeGreaterThan(0);
      expect(result.provider).toBe('cpu');
      // The same seed gives the same text.
      const again = JSON.parse((await atelier(['generate', 'text', '--library', library, '--model', fx[variant], '--prompt', 'Hello', '--max-new-tokens', '8', '--seed', '5', '--json'])).stdout) as { text: string };
      expect(again.text).toBe(result.text);
    });
  }

  it('generates an image and a piece of music to files, with --json results', async () => {
    const out = path.join(library, 'out', 'picture.png');
    const image = JSON.parse((await atelier(['generate', 'image', '--library', library, '--model', fx.images.imageOracle, '--prompt', 'a harbour', '--steps', '4', '--width', '128', '--height', '96', '--seed', '9', '--out', out, '--json'])).stdout) as { files: string[]; seed: number; provider: string };
    expect(image).toMatchObject({ files: [out], seed: 9, provider: 'cpu' });
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');

    const wav = path.join(library, 'out', 'tone.wav');
    const music = JSON.parse((await atelier(['generate', 'music', '--library', library, '--model', fx.musicOracle, '--prompt', 'a tone', '--seconds', '2', '--seed', '1', '--out', wav, '--json'])).stdout) as { files: string[]; seconds: number; sampleRate: number };
    expect(music.files).toEqual([wav]);
    expect(music.seconds).toBeCloseTo(2, 1);
    expect(music.sampleRate).toBeGreaterThan(0);
    expect(existsSync(wav)).toBe(true);
  });

  it('lists, searches and shows the library', async () => {
    const list = JSON.parse((await atelier(['library', 'list', '--library', library, '--kind', 'image', '--json'])).stdout) as { items: { id: string; prompt: string }[] };
    expect(list.items.map((g) => g.prompt)).toContain('a harbour');
    const search = JSON.parse((await atelier(['library', 'search', 'harbour', '--library', library, '--json'])).stdout) as { items: { snippet: string }[] };
    expect(search.items[0].snippet).toContain('<mark>harbour</mark>');
    const shown = JSON.parse((await atelier(['library', 'show', list.items[0].id, '--library', library, '--json'])).stdout) as { params: { steps: number } };
    expect(shown.params.steps).toBe(4);
  });

  it('inspects model folders and says what is missing', async () => {
    const ok = JSON.parse((await atelier(['models', 'inspect', fx.images.imageOracle, '--library', library, '--json'])).stdout) as { kind: string; ok: boolean };
    expect(ok).toMatchObject({ kind: 'image', ok: true });
    const broken = await fails(['models', 'inspect', path.join(fx.images.imageOracle, 'unet'), '--library', library]);
    expect(broken.code).toBe(1);
  });

  it('gives a clear error and exit code for bad input', async () => {
    const missing = await fails(['generate', 'text', '--library', library, '--prompt', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model is required/);
    const unknown = await fails(['frobnicate', '--library', library]);
    expect(unknown.stderr).toMatch(/Unknown command/);
    const notInstalled = await fails(['generate', 'text', '--library', library, '--model', 'no-such-model', '--prompt', 'x']);
    expect(notInstalled.stderr).toMatch(/MODEL_NOT_INSTALLED/);
  });
});
