import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureImageFixtures, type ImageFixturePaths } from '../../../../scripts/fixtures/image';
import { ClipTokenizer } from '../../../../src/engine/image/clip-tokenizer';
import { encodeImagePng, encodePng, readPngParameters } from '../../../../src/engine/media/png';
import { itxtChunk, readChunks, readTextChunks, textChunk } from '../../../../src/shared/png-chunks';
import { TRAINED_ALGORITHMIC_MEDIA, XMP_KEYWORD } from '../../../../src/shared/provenance';

let fx: ImageFixturePaths;
let tmp: string;
beforeAll(async () => {
  fx = await ensureImageFixtures();
  tmp = mkdtempSync(join(tmpdir(), 'atelier-png-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('CLIP tokenizer', () => {
  it('vocab.json + merges.txt: bos, words, eos, pad to 77 with eos', () => {
    const tok = ClipTokenizer.fromDir(join(fx.imageOracle, 'tokenizer'));
    const v = (s: string): number => tok.vocab.get(s) as number;
    expect(tok.bosId).toBe(v('<|startoftext|>'));
    expect(tok.eosId).toBe(v('<|endoftext|>'));
    const ids = tok.encode('  A   Photo of\n a CAT ');
    expect(ids).toHaveLength(77);
    expect(ids.slice(0, 7)).toEqual([tok.bosId, v('a</w>'), v('photo</w>'), v('of</w>'), v('a</w>'), v('cat</w>'), tok.eosId]);
    expect(ids.slice(7).every((i) => i === tok.eosId)).toBe(true);
  });

  it('unknown words fall back to byte pieces, punctuation splits, long prompts truncate', () => {
    const tok = ClipTokenizer.fromDir(join(fx.imageOracle, 'tokenizer'));
    const v = (s: string): number => tok.vocab.get(s) as number;
    expect(tok.encodeRaw('zq')).toEqual([v('z'), v('q</w>')]);
    expect(tok.encodeRaw('cat, dog!')).toEqual([v('cat</w>'), v(',</w>'), v('dog</w>'), v('!</w>')]);
    expect(tok.encodeRaw('café').length).toBeGreaterThan(1);
    const long = tok.encode(Array.from({ length: 100 }, () => 'cat').join(' '));
    expect(long).toHaveLength(77);
    expect(long[76]).toBe(tok.eosId);
    expect(long[75]).toBe(v('cat</w>'));
  });

  it('tokenizer.json gives the same ids as vocab.json + merges.txt', () => {
    const a = ClipTokenizer.fromDir(join(fx.imageOracle, 'tokenizer'));
    const b = ClipTokenizer.fromDir(join(fx.imageExternal, 'tokenizer'));
    const text = 'Portrait of a red castle at night, detailed, high quality &amp; sky';
    expect(b.encode(text)).toEqual(a.encode(text));
  });
});

const prov = {
  model: 'sd-oracle',
  prompt: 'a photo of a cat, “best”',
  negativePrompt: 'blurry',
  width: 64,
  height: 64,
  steps: 20,
  guidance: 7,
  scheduler: 'dpmpp-2m-karras' as const,
  seed: 1234,
  batch: 1,
  strength: 0.75,
};

describe('PNG provenance', () => {
  it('writes parameters, atelier JSON and XMP chunks that read back; encoding is deterministic', () => {
    const px = new Uint8Array(8 * 8 * 3).fill(120);
    const a = encodeImagePng(px, 8, 8, 3, prov);
    expect(a.equals(encodeImagePng(px, 8, 8, 3, prov))).toBe(true);
    const texts = readTextChunks(readChunks(a));
    expect(texts.get('parameters')).toBe('a photo of a cat, “best”\nNegative prompt: blurry\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 64x64, Model: sd-oracle');
    expect(texts.get(XMP_KEYWORD)).toContain(TRAINED_ALGORITHMIC_MEDIA);
    const r = readPngParameters(a);
    expect(r?.source).toBe('atelier');
    expect(r?.params).toEqual(prov);
  });

  it('exiftool reads DigitalSourceType and Parameters (CI installs exiftool)', () => {
    const file = join(tmp, 'prov.png');
    writeFileSync(file, encodeImagePng(new Uint8Array(8 * 8 * 3).fill(50), 8, 8, 3, { ...prov, prompt: 'a photo of a cat' }));
    const out = execFileSync('exiftool', ['-G1', '-a', '-s', file], { encoding: 'utf8' });
    expect(out).toMatch(/DigitalSourceType\s*:\s*http:\/\/cv\.iptc\.org\/newscodes\/digitalsourcetype\/trainedAlgorithmicMedia/);
    expect(out).toMatch(/Parameters\s*:\s*a photo of a cat/);
    expect(out).not.toMatch(/Warning/);
  });

  it('parses an AUTOMATIC1111 PNG', () => {
    const text = 'masterpiece, a lighthouse\nat dusk\nNegative prompt: lowres, ugly\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3996347361, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.6, Version: v1.10.1';
    const png = encodePng(new Uint8Array(4 * 4 * 3), 4, 4, 3, [textChunk('parameters', text)]);
    const r = readPngParameters(png);
    expect(r?.source).toBe('a1111');
    expect(r?.params).toEqual({
      prompt: 'masterpiece, a lighthouse\nat dusk',
      negativePrompt: 'lowres, ugly',
      steps: 28,
      scheduler: 'dpmpp-2m-karras',
      guidance: 6.5,
      seed: 3996347361,
      width: 512,
      height: 768,
      model: 'v1-5-pruned-emaonly',
      strength: 0.6,
    });
    expect(r?.extra['Model hash']).toBe('6ce0161689');
  });

  it('parses a ComfyUI PNG (prompt + workflow chunks)', () => {
    const prompt = {
      '3': { class_type: 'KSampler', inputs: { seed: 156680208700286, steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'beautiful scenery nature glass bottle landscape, , purple galaxy bottle,', clip: ['4', 1] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'text, watermark', clip: ['4', 1] } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
    };
    const png = encodePng(new Uint8Array(4 * 4 * 3), 4, 4, 3, [textChunk('prompt', JSON.stringify(prompt)), itxtChunk('workflow', '{"nodes":[]}')]);
    const r = readPngParameters(png);
    expect(r?.source).toBe('comfyui');
    expect(r?.params).toEqual({
      seed: 156680208700286,
      steps: 20,
      guidance: 8,
      scheduler: 'euler',
      prompt: 'beautiful scenery nature glass bottle landscape, , purple galaxy bottle,',
      negativePrompt: 'text, watermark',
      width: 512,
      height: 512,
      batch: 1,
      model: 'v1-5-pruned-emaonly.safetensors',
    });
    expect(r?.extra.workflow).toBe('{"nodes":[]}');
  });

  it('a PNG without parameters gives null; a corrupted chunk is rejected', () => {
    const png = encodePng(new Uint8Array(4 * 4 * 3), 4, 4, 3);
    expect(readPngParameters(png)).toBeNull();
    const bad = Buffer.from(png);
    bad[20] ^= 0xff;
    expect(() => readPngParameters(bad)).toThrow(/CRC/);
  });
});
