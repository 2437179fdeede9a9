import sharp, { type Sharp } from 'sharp';
import { insertChunks } from '../../shared/png-chunks';

/** A `size` px (longest side) webp thumbnail of an image. Never upscales. */
export async function writeThumbnail(src: string, dest: string, size = 256): Promise<{ path: string; width: number; height: number }> {
  const info = await sharp(src).resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toFile(dest);
  return { path: dest, width: info.width, height: info.height };
}

function rawInput(pixels: Uint8Array, width: number, height: number, channels: 3 | 4): Sharp {
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels } });
}

/**
 * The same thumbnail straight from the pixels in memory: no PNG decode of the file just written.
 * Runs on libuv's thread pool, so it overlaps with the PNG encode.
 */
export async function writeThumbnailFromPixels(pixels: Uint8Array, width: number, height: number, channels: 3 | 4, dest: string, size = 256): Promise<{ path: string; width: number; height: number }> {
  const info = await rawInput(pixels, width, height, channels).resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toFile(dest);
  return { path: dest, width: info.width, height: info.height };
}

/**
 * PNG via sharp (libvips + libspng: C filtering and zlib level 6 off the engine's event loop),
 * with `extra` chunks (provenance) inserted after IHDR. Deterministic: no timestamp or other
 * varying chunk is written, so the same pixels and chunks give the same bytes (for one sharp
 * build). On 512×512 this is ~2× faster than the JS encoder and does not block the engine's
 * message loop while it runs.
 */
export async function encodePngWithSharp(pixels: Uint8Array, width: number, height: number, channels: 3 | 4, extra: readonly Uint8Array[]): Promise<Uint8Array> {
  const png = await rawInput(pixels, width, height, channels).png({ compressionLevel: 6, adaptiveFiltering: true, palette: false }).toBuffer();
  return insertChunks(png, extra);
}
