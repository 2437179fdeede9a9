import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { encodeWav } from '../../../src/engine/media/wav';
import type { Library } from '../../../src/main/library';
import type { Studio } from '../../../src/main/studio';
import type { Generation } from '../../../src/shared/contract';

/** A picture of one colour (with a little texture, so files differ), committed as an image generation. */
export async function commitColour(library: Library, scratch: string, name: string, rgb: [number, number, number], prompt = `picture ${name}`): Promise<Generation> {
  fs.mkdirSync(scratch, { recursive: true });
  const file = path.join(scratch, `${name}.png`);
  const pixels = Buffer.alloc(16 * 16 * 3);
  for (let i = 0; i < 16 * 16; i++) {
    // ±1 around the colour: the mean stays the colour, the bytes differ per name.
    const jitter = (i + name.length) % 3 === 0 ? 1 : 0;
    pixels[i * 3] = Math.max(0, rgb[0] - jitter);
    pixels[i * 3 + 1] = Math.max(0, rgb[1] - jitter);
    pixels[i * 3 + 2] = Math.max(0, rgb[2] - jitter);
  }
  await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(file);
  return library.commitGeneration({
    kind: 'image',
    model: 'tiny-sd',
    prompt,
    params: { model: 'tiny-sd', prompt, width: 16, height: 16 },
    files: [{ sourcePath: file, mime: 'image/png', role: 'image', width: 16, height: 16 }],
  });
}

/** A sine tone (1 s at 32 kHz, MusicGen's rate) committed as a music generation; `prompt` names no pitch unless asked. */
export async function commitTone(library: Library, scratch: string, name: string, hz: number, prompt = `piece ${name}`): Promise<Generation> {
  fs.mkdirSync(scratch, { recursive: true });
  const file = path.join(scratch, `${name}.wav`);
  const rate = 32000;
  // The level differs a little per name, so files differ; the pitch is what the oracle hears.
  const level = 0.3 + (name.length % 5) * 0.05;
  const samples = Float32Array.from({ length: rate }, (_, n) => level * Math.sin((2 * Math.PI * hz * n) / rate));
  fs.writeFileSync(file, encodeWav({ samples, channels: 1, sampleRate: rate, format: 'pcm16' }));
  const params = { model: 'tiny-musicgen', prompt, seconds: 1, guidance: 3, temperature: 1, topK: 250, variations: 1, format: 'pcm16' as const };
  return library.commitGeneration({ kind: 'music', model: 'tiny-musicgen', prompt, params, files: [{ sourcePath: file, mime: 'audio/wav', role: 'audio', durationMs: 1000 }] });
}

export interface Hits {
  items: { generation: Generation; similarity: number | null; words: boolean }[];
}

/** One contract call, as the command line makes it; a refusal throws with its code. */
export async function call<T>(studio: Studio, name: Parameters<Studio['dispatch']>[0], input: unknown): Promise<T> {
  const result = await studio.dispatch(name, input as never, { transport: 'cli' });
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

/** Closes a test's studio and removes its data folder (a temporary one the test made). */
export async function closeAndRemove(studio: Studio | undefined, dataDir: string): Promise<void> {
  await studio?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
