import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cpSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectModelDir } from '../../../src/engine/runtime/layout';
import { getFixtures, tempDir } from './helpers';

function write(dir: string, file: string, content = '{}'): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), content);
}

describe('inspectModelDir', () => {
  it('recognises the text and music fixtures as complete', async () => {
    const f = await getFixtures();
    for (const dir of [f.textGpt2, f.textLlama, f.textExternal, f.textOracleChat]) {
      expect(inspectModelDir(dir)).toMatchObject({ kind: 'text', ok: true, problems: [] });
    }
    const music = inspectModelDir(f.musicOracle);
    expect(music).toMatchObject({ kind: 'music', ok: true, architecture: 'MusicgenForConditionalGeneration' });
    expect(music.totalBytes).toBe(music.files.reduce((s, x) => s + x.bytes, 0));
    expect(music.files.map((x) => x.path)).toContain('onnx/decoder_model_merged.onnx');
  });

  it('tells embedding models (CLIP, sentence embedders, CLAP) from the generators that share config.json', async () => {
    const f = await getFixtures();
    expect(inspectModelDir(f.embedClipOracle)).toMatchObject({ kind: 'embedding', ok: true, problems: [], architecture: 'CLIPModel' });
    // A bert encoder with onnx/model.onnx would pass as a language model's layout: it must not be offered for writing.
    expect(inspectModelDir(f.embedTextOracle)).toMatchObject({ kind: 'embedding', ok: true, problems: [], architecture: 'BertModel' });

    const clip = tempDir();
    cpSync(f.embedClipOracle, clip, { recursive: true });
    rmSync(path.join(clip, 'onnx', 'vision_model.onnx'));
    expect(inspectModelDir(clip)).toMatchObject({ kind: 'embedding', ok: false });
    expect(inspectModelDir(clip).problems).toEqual([expect.stringMatching(/^onnx\/vision_model\.onnx is missing: the folder looks like a CLIP embedding model .* but its picture encoder was not downloaded$/)]);

    const clap = tempDir();
    write(clap, 'config.json', JSON.stringify({ model_type: 'clap', architectures: ['ClapModel'] }));
    write(clap, 'onnx/text_model_quantized.onnx', 'x');
    write(clap, 'tokenizer.json', '{"x":1}');
    const result = inspectModelDir(clap);
    expect(result).toMatchObject({ kind: 'embedding', ok: false });
    expect(result.problems).toEqual([
      expect.stringMatching(/^onnx\/audio_model\.onnx is missing: the folder looks like a CLAP embedding model/),
      expect.stringMatching(/^preprocessor_config\.json is missing/),
    ]);

    // A masked-language-model head is not a sentence embedder.
    const mlm = tempDir();
    write(mlm, 'config.json', JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'] }));
    expect(inspectModelDir(mlm).kind).toBe('text');
  });

  it('says which text file is missing and why it matters', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    cpSync(f.textGpt2, dir, { recursive: true });
    rmSync(path.join(dir, 'onnx'), { recursive: true });
    rmSync(path.join(dir, 'tokenizer_config.json'));
    const result = inspectModelDir(dir);
    expect(result.kind).toBe('text');
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.stringMatching(/^onnx\/model\.onnx is missing: the folder looks like a transformers\.js language model but no ONNX weights/));
    expect(result.problems).toContainEqual(expect.stringMatching(/^tokenizer_config\.json is missing/));
  });

  it('accepts a quantized-only text model', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    cpSync(f.textGpt2, dir, { recursive: true });
    cpSync(path.join(dir, 'onnx/model.onnx'), path.join(dir, 'onnx/model_q4.onnx'));
    rmSync(path.join(dir, 'onnx/model.onnx'));
    expect(inspectModelDir(dir)).toMatchObject({ kind: 'text', ok: true });
  });

  it('names the missing UNet of a diffusers export', () => {
    const dir = tempDir();
    write(dir, 'model_index.json', JSON.stringify({ _class_name: 'OnnxStableDiffusionPipeline' }));
    write(dir, 'scheduler/scheduler_config.json');
    write(dir, 'tokenizer/vocab.json');
    write(dir, 'tokenizer/merges.txt', '#version: 0.2\n');
    write(dir, 'text_encoder/model.onnx', 'x');
    write(dir, 'vae_decoder/model.onnx', 'x');
    const result = inspectModelDir(dir);
    expect(result).toMatchObject({ kind: 'image', ok: false, architecture: 'OnnxStableDiffusionPipeline' });
    expect(result.problems).toEqual(['unet/model.onnx is missing: the folder looks like a diffusers ONNX export but the UNet was not downloaded']);
  });

  it('names the missing MusicGen decoder and flags empty downloads', async () => {
    const f = await getFixtures();
    const dir = tempDir();
    cpSync(f.musicRandom, dir, { recursive: true });
    rmSync(path.join(dir, 'onnx/decoder_model_merged.onnx'));
    writeFileSync(path.join(dir, 'onnx/encodec_decode.onnx'), '');
    const result = inspectModelDir(dir);
    expect(result.kind).toBe('music');
    expect(result.problems).toContainEqual(expect.stringMatching(/^onnx\/decoder_model_merged\.onnx is missing: the folder looks like a MusicGen model/));
    expect(result.problems).toContainEqual(expect.stringMatching(/^onnx\/encodec_decode\.onnx is empty \(0 bytes\)/));
  });

  it('explains an unrelated or absent folder', () => {
    const dir = tempDir();
    write(dir, 'notes.txt', 'hello');
    expect(inspectModelDir(dir)).toMatchObject({ kind: 'unknown', ok: false, problems: [expect.stringMatching(/neither config\.json .* nor model_index\.json/)] });
    expect(inspectModelDir(path.join(dir, 'nope')).problems[0]).toMatch(/is not a folder/);
  });
});
