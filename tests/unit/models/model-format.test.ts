import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelFormat } from '../../../src/main/models/installed-models';
import { ggufInFolder } from '../../../src/shared/gguf-names';

function folder(name: string, files: Record<string, string>): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'atelier-format-')), name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

describe('modelFormat: what runs an installed model, for the model lists', () => {
  it('names a downloaded GGUF folder, a .gguf file and an Ollama blob (by its magic) as GGUF', async () => {
    const dir = folder('qwen', { 'qwen-q4_k_m.gguf': 'GGUF....', '.atelier-manifest.json': '{}', 'README.md': '#' });
    expect(await modelFormat(dir)).toBe('gguf');
    expect(await modelFormat(path.join(dir, 'qwen-q4_k_m.gguf'))).toBe('gguf');
    const blobs = folder('blobs', { 'sha256-0123abcd': 'GGUF\u0003\u0000\u0000\u0000', 'sha256-4567': 'not a model' });
    expect(await modelFormat(path.join(blobs, 'sha256-0123abcd'))).toBe('gguf');
    expect(await modelFormat(path.join(blobs, 'sha256-4567'))).toBeUndefined();
  });

  it('names a transformers.js folder ONNX even with a stray .gguf inside, and a server description as a server', async () => {
    expect(await modelFormat(folder('tiny', { 'config.json': '{}', 'stray.gguf': 'GGUF' }))).toBe('onnx');
    expect(await modelFormat(folder('sd', { 'model_index.json': '{}' }))).toBe('onnx');
    const servers = folder('servers', { 'llama.openai.json': '{}' });
    expect(await modelFormat(path.join(servers, 'llama.openai.json'))).toBe('server');
  });

  it('says nothing about a path that is gone', async () => {
    expect(await modelFormat(path.join(os.tmpdir(), 'atelier-format-gone', 'nothing-here'))).toBeUndefined();
  });
});

describe('ggufInFolder: the language model among a folder’s names', () => {
  it('leaves out projectors and later parts of a split model, and says when two models are there', () => {
    expect(ggufInFolder(['mmproj-f16.gguf', 'llava-q4.gguf'])).toEqual({ kind: 'file', name: 'llava-q4.gguf' });
    expect(ggufInFolder(['m-00002-of-00002.gguf', 'm-00001-of-00002.gguf'])).toEqual({ kind: 'file', name: 'm-00001-of-00002.gguf' });
    expect(ggufInFolder(['b.gguf', 'a.gguf'])).toEqual({ kind: 'ambiguous', names: ['a.gguf', 'b.gguf'] });
    expect(ggufInFolder(['.hidden.gguf', 'notes.txt'])).toEqual({ kind: 'none' });
  });
});
