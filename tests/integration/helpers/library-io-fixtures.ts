/**
 * Shared fixtures for the library-io tests: a library with images (plain sharp PNGs, so export
 * must add every provenance chunk), a WAV without INFO, a text generation and a remix child; and
 * PNGs carrying the metadata chunks other tools write.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Generation } from '../../../src/shared/contract';
import type { Library } from '../../../src/main/library';
import { readChunks, rewritePng, textChunk, itxtChunk } from '../../../src/shared/png-chunks';

export function tempDir(prefix = 'atelier-io-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export async function plainPng(width: number, height: number, seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31 + seed * 17) & 0xff;
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A PNG with the given text chunks (tEXt, or iTXt when `utf8`). */
export async function pngWithText(texts: Record<string, string>, seed: number, utf8 = false): Promise<Buffer> {
  const png = await plainPng(16, 16, seed);
  return Buffer.from(
    rewritePng(
      readChunks(png),
      Object.entries(texts).map(([k, v]) => (utf8 ? itxtChunk(k, v) : textChunk(k, v))),
    ),
  );
}

/** 16-bit mono PCM WAV, no LIST chunk. */
export function plainWav(frames: number, seed: number): Buffer {
  const data = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) data.writeInt16LE(Math.round(Math.sin((i + seed) / 10) * 8000), i * 2);
  const fmt = Buffer.alloc(16);
  fmt.writeUInt16LE(1, 0);
  fmt.writeUInt16LE(1, 2);
  fmt.writeUInt32LE(16000, 4);
  fmt.writeUInt32LE(32000, 8);
  fmt.writeUInt16LE(2, 12);
  fmt.writeUInt16LE(16, 14);
  const chunk = (id: string, body: Buffer) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'ascii');
    h.writeUInt32LE(body.length, 4);
    return Buffer.concat([h, body]);
  };
  const body = Buffer.concat([Buffer.from('WAVE'), chunk('fmt ', fmt), chunk('data', data)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

export interface Seeded {
  images: Generation[];
  music: Generation;
  text: Generation;
  child: Generation;
}

/** Fills `library` with `imageCount` images, a WAV, a text and a remix of the first image. */
export async function seedLibrary(library: Library, scratch: string, imageCount = 3, pixelOffset = 0): Promise<Seeded> {
  fs.mkdirSync(scratch, { recursive: true });
  const images: Generation[] = [];
  for (let n = 0; n < imageCount; n++) {
    const file = path.join(scratch, `img-${n}.png`);
    fs.writeFileSync(file, await plainPng(24, 16, n + pixelOffset));
    images.push(
      await library.commitGeneration({
        kind: 'image',
        model: 'tiny-sd',
        prompt: `A lighthouse at dusk, number ${n}, oil painting`,
        negativePrompt: 'blurry, low quality',
        seed: 1000 + n,
        params: { model: 'tiny-sd', prompt: `A lighthouse at dusk, number ${n}, oil painting`, negativePrompt: 'blurry, low quality', width: 24, height: 16, steps: 20, guidance: 7.5, scheduler: 'euler-a', seed: 1000 + n, batch: 1, strength: 0.75 },
        provider: 'cpu',
        files: [{ sourcePath: file, mime: 'image/png', role: 'image', width: 24, height: 16 }],
      }),
    );
  }
  const wavFile = path.join(scratch, 'song.wav');
  fs.writeFileSync(wavFile, plainWav(1600, 3 + pixelOffset));
  const music = await library.commitGeneration({
    kind: 'music',
    model: 'tiny-musicgen',
    prompt: 'calm piano, rain',
    seed: 7,
    params: { model: 'tiny-musicgen', prompt: 'calm piano, rain', seconds: 0.1, guidance: 3, temperature: 1, topK: 250, seed: 7, variations: 1, format: 'pcm16' },
    files: [{ sourcePath: wavFile, mime: 'audio/wav', role: 'audio', durationMs: 100 }],
  });
  const text = await library.commitGeneration({
    kind: 'text',
    model: 'tiny-gpt',
    prompt: 'Write a haiku about "quotes": and colons',
    seed: 3,
    params: { model: 'tiny-gpt', prompt: 'Write a haiku about "quotes": and colons', action: 'continue', maxNewTokens: 32, temperature: 0.8, topP: 0.95, topK: 50, repetitionPenalty: 1.1 },
    outputText: 'Old pond, a frog jumps\n---\nthe sound of water',
  });
  const childFile = path.join(scratch, 'child.png');
  fs.writeFileSync(childFile, await plainPng(24, 16, 99 + pixelOffset));
  const child = await library.commitGeneration({
    kind: 'image',
    model: 'tiny-sd',
    prompt: 'A lighthouse at dawn',
    seed: 5,
    params: { model: 'tiny-sd', prompt: 'A lighthouse at dawn', negativePrompt: '', width: 24, height: 16, steps: 10, guidance: 5, scheduler: 'ddim', seed: 5, batch: 1, strength: 0.6, initAssetId: images[0]!.assets[0]!.id },
    parentId: images[0]!.id,
    files: [{ sourcePath: childFile, mime: 'image/png', role: 'image', width: 24, height: 16 }],
  });
  if (images[1]) library.tagGeneration(images[1].id, { add: ['sea', 'dusk'] });
  if (images[2]) library.rateGeneration(images[2].id, 4);
  return { images, music, text, child };
}

/** Every generation (live and trashed) through the public API, for comparing two libraries. */
export function allGenerations(library: Library): Generation[] {
  const out: Generation[] = [];
  for (const trash of [false, true]) {
    let cursor: string | undefined;
    do {
      const page = library.listGenerations({ trash, limit: 500, cursor, sort: 'oldest' });
      out.push(...page.items.map((g) => library.getGeneration(g.id)));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return out;
}

/** sha256 of every file under <libraryDir>/files, by relative path. */
export function storeHashes(libraryDir: string): Record<string, string> {
  const filesDir = path.join(libraryDir, 'files');
  const out: Record<string, string> = {};
  if (!fs.existsSync(filesDir)) return out;
  for (const e of fs.readdirSync(filesDir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out[path.relative(filesDir, full)] = sha256File(full);
  }
  return out;
}
