import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { findLocalGgufModels } from '../../src/main/models/local-sources';
import { allFixtures, tempDataDir } from './helpers/studio-fixtures';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const DIGEST = 'a'.repeat(64);

/** A home folder laid out as LM Studio and Ollama leave it, holding the tiny GGUF. */
function fakeHome(gguf: string): string {
  const home = tempDataDir('atelier-home-');
  const lm = path.join(home, '.lmstudio', 'models', 'acme', 'Tiny-Llama-GGUF');
  mkdirSync(lm, { recursive: true });
  copyFileSync(gguf, path.join(lm, 'tiny-llama-Q8_0.gguf'));
  writeFileSync(path.join(lm, 'mmproj-tiny-f16.gguf'), 'a vision projector, not a language model');
  const ollama = path.join(home, '.ollama', 'models');
  mkdirSync(path.join(ollama, 'blobs'), { recursive: true });
  copyFileSync(gguf, path.join(ollama, 'blobs', `sha256-${DIGEST}`));
  writeFileSync(path.join(ollama, 'blobs', `sha256-${'b'.repeat(64)}`), '{{ .Prompt }}');
  const manifest = path.join(ollama, 'manifests', 'registry.ollama.ai', 'library', 'tinyllama');
  mkdirSync(manifest, { recursive: true });
  writeFileSync(
    path.join(manifest, 'latest'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 10 },
      layers: [
        { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${DIGEST}`, size: readFileSync(gguf).length },
        { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'b'.repeat(64)}`, size: 13 },
      ],
    }),
  );
  return home;
}

describe('models LM Studio and Ollama already have', () => {
  let gguf = '';
  let home = '';

  beforeAll(async () => {
    gguf = (await allFixtures()).ggufLlama;
    home = fakeHome(gguf);
  });

  it('finds LM Studio\'s GGUF files (not its vision projectors) and Ollama\'s model blobs through their manifests', () => {
    const found = findLocalGgufModels({ home, env: {} });
    const size = readFileSync(gguf).length;
    expect(found).toEqual([
      { source: 'lmstudio', name: 'acme/Tiny-Llama-GGUF/tiny-llama-Q8_0', path: path.join(home, '.lmstudio/models/acme/Tiny-Llama-GGUF/tiny-llama-Q8_0.gguf'), bytes: size },
      { source: 'ollama', name: 'tinyllama:latest', path: path.join(home, `.ollama/models/blobs/sha256-${DIGEST}`), bytes: size },
    ]);
    expect(findLocalGgufModels({ home, env: { OLLAMA_MODELS: path.join(home, 'elsewhere') } }).map((m) => m.source)).toEqual(['lmstudio']);
  });

  it('registers them in place with `models discover --import`, and an Ollama blob (no .gguf name) generates', async () => {
    const library = tempDataDir('atelier-discover-');
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'OLLAMA_MODELS')), HOME: home };
    const atelier = (args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/cli/index.ts'), ...args, '--library', library, '--json'], { cwd: ROOT, env });
    const { items } = JSON.parse((await atelier(['models', 'discover', '--import'])).stdout) as { items: { id: string; path: string; kind: string }[] };
    expect(items.map((m) => [m.id, m.kind, m.path])).toEqual([
      ['acme-tiny-llama-gguf-tiny-llama-q8-0', 'text', path.join(home, '.lmstudio/models/acme/Tiny-Llama-GGUF/tiny-llama-Q8_0.gguf')],
      ['tinyllama-latest', 'text', path.join(home, `.ollama/models/blobs/sha256-${DIGEST}`)],
    ]);
    const result = JSON.parse((await atelier(['generate', 'text', '--model', 'tinyllama-latest', '--prompt', 'Once', '--temperature', '0', '--max-new-tokens', '5'])).stdout) as { tokens: number };
    expect(result.tokens).toBe(5);
  });
});
