import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCatalogEntry, loadCatalog, parseCatalog, patternsFor } from '../../../src/main/models/catalog';
import { globToRegExp, matchesAny } from '../../../src/main/models/glob';
import { downloadId, parseRepoAtRevision } from '../../../src/main/models/repo-spec';

const catalog = loadCatalog(path.resolve(__dirname, '../../../resources/catalog.json'));

describe('catalog', () => {
  it('ships text, image and music models, each honest about being unverified until pinned', () => {
    const kinds = catalog.models.map((m) => m.kind);
    expect(kinds.filter((k) => k === 'text').length).toBeGreaterThanOrEqual(2);
    expect(kinds).toContain('image');
    expect(kinds).toContain('music');
    for (const m of catalog.models) {
      if (!m.verified) expect(m.verificationNote).toMatch(/not verified/);
      expect(m.licence.url).toMatch(/^https:\/\//);
    }
  });

  it('maps a dtype to common files plus that dtype weights, and refuses a dtype the model lacks', () => {
    const qwen = findCatalogEntry(catalog, 'onnx-community/Qwen2.5-0.5B-Instruct')!;
    const patterns = patternsFor(qwen, 'q4f16');
    expect(matchesAny('onnx/model_q4f16.onnx', patterns)).toBe(true);
    expect(matchesAny('onnx/model.onnx', patterns)).toBe(false);
    expect(matchesAny('tokenizer.json', patterns)).toBe(true);
    expect(() => patternsFor(findCatalogEntry(catalog, 'sd-turbo')!, 'q4')).toThrow(/no q4 variant/);
  });

  it('lists the embedding models for search by meaning, each saying what it indexes, with files in transformers.js layout', () => {
    const onnx = catalog.models.filter((m) => m.format === 'onnx');
    const embedding = onnx.filter((m) => m.kind === 'embedding');
    expect(embedding.map((m) => [m.repo, m.embeds])).toEqual([
      ['Xenova/clip-vit-base-patch32', ['image']],
      ['Xenova/all-MiniLM-L6-v2', ['text']],
      ['Xenova/clap-htsat-unfused', ['music']],
    ]);
    const clip = findCatalogEntry(catalog, 'clip-vit-base-patch32')!;
    for (const file of ['onnx/text_model_quantized.onnx', 'onnx/vision_model_quantized.onnx', 'preprocessor_config.json', 'tokenizer.json']) expect(matchesAny(file, patternsFor(clip))).toBe(true);
    expect(matchesAny('onnx/vision_model.onnx', patternsFor(clip))).toBe(false);
    expect(matchesAny('onnx/vision_model.onnx', patternsFor(clip, 'fp32'))).toBe(true);
    expect(matchesAny('onnx/audio_model_quantized.onnx', patternsFor(findCatalogEntry(catalog, 'Xenova/clap-htsat-unfused')!))).toBe(true);
    expect(onnx.filter((m) => m.kind !== 'embedding').every((m) => m.embeds === undefined)).toBe(true);
  });

  it('refuses an embedding model that does not say what it indexes, and a generator that claims to', () => {
    const base = catalog.models.filter((m) => m.format === 'onnx').find((m) => m.id === 'all-minilm-l6-v2')!;
    const { embeds: _embeds, ...silent } = base;
    expect(() => parseCatalog({ version: 1, models: [silent] })).toThrow(/an embedding model says what it embeds/);
    expect(() => parseCatalog({ version: 1, models: [{ ...base, kind: 'text' }] })).toThrow(/only an embedding model does/);
  });

  it('ships GGUF instruct models with a Q4_K_M default among their quantisations, which a dtype cannot pick', () => {
    const gguf = catalog.models.filter((m) => m.format === 'gguf');
    expect(gguf.map((m) => m.repo)).toEqual(expect.arrayContaining(['Qwen/Qwen2.5-0.5B-Instruct-GGUF', 'bartowski/Llama-3.2-1B-Instruct-GGUF']));
    for (const m of gguf) if (m.format === 'gguf') expect(m.quants[m.defaultQuant]?.approxBytes).toBeGreaterThan(0);
    expect(() => patternsFor(gguf[0]!, 'q4')).toThrow(/GGUF model: pick a quantisation \(Q4_K_M/);
    expect(() => parseCatalog({ version: 1, models: [{ ...gguf[0], defaultQuant: 'Q3_K_S' }] })).toThrow(/models\.0/);
  });

  it('rejects a malformed catalog with the path of the problem', () => {
    expect(() => parseCatalog({ version: 1, models: [{ id: 'x' }] })).toThrow(/models\.0/);
  });
});

describe('glob', () => {
  it('keeps * within a folder and lets ** cross folders', () => {
    expect(globToRegExp('*.json').test('config.json')).toBe(true);
    expect(globToRegExp('*.json').test('unet/config.json')).toBe(false);
    expect(globToRegExp('**/*.json').test('unet/config.json')).toBe(true);
    expect(globToRegExp('**/*.json').test('config.json')).toBe(true);
    expect(globToRegExp('onnx/model.onnx_data*').test('onnx/model.onnx_data_1')).toBe(true);
    expect(globToRegExp('onnx/model{,_fp16}.onnx').test('onnx/model_fp16.onnx')).toBe(true);
    expect(globToRegExp('onnx/model.onnx').test('onnxXmodel.onnx')).toBe(false);
  });
});

describe('repository names', () => {
  it('parses owner/name@revision and names the folder after it', () => {
    expect(parseRepoAtRevision('onnx-community/Qwen2.5-0.5B-Instruct')).toEqual({ repo: 'onnx-community/Qwen2.5-0.5B-Instruct', revision: 'main' });
    expect(parseRepoAtRevision('a/b@refs/pr/1')).toEqual({ repo: 'a/b', revision: 'refs/pr/1' });
    expect(downloadId('a/b', 'refs/pr/1')).toBe('a--b@refs%2Fpr%2F1');
    expect(() => parseRepoAtRevision('../etc')).toThrow(/owner\/name/);
    expect(() => parseRepoAtRevision('a/..')).toThrow(/owner\/name/);
    expect(() => parseRepoAtRevision('a/b@../../x')).toThrow(/revision/);
  });
});
