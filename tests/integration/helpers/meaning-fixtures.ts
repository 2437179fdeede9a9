import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Library } from '../../../src/main/library';
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
