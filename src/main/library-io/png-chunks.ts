import { inflateSync } from 'node:zlib';
import { crc32 } from './crc32';

/**
 * The few PNG chunk operations export and import need. src/engine/media/png.ts has the full
 * encoder; main may not import the engine (layering), so this is the minimal main-side copy.
 */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const XMP_KEYWORD = 'XML:com.adobe.xmp';
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

export interface PngChunk {
  type: string;
  data: Buffer;
}

export function encodeChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4, 8))), 0);
  return Buffer.concat([head, data, crc]);
}

/** Splits a PNG into chunks, checking the signature, every CRC and that IEND is present. */
export function readChunks(png: Uint8Array): PngChunk[] {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG file');
  const chunks: PngChunk[] = [];
  let offset = 8;
  while (offset + 12 <= buf.length) {
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > buf.length) throw new Error(`truncated PNG chunk ${type}`);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    if (buf.readUInt32BE(offset + 8 + length) !== crc32(data, crc32(buf.subarray(offset + 4, offset + 8)))) throw new Error(`bad CRC in PNG chunk ${type}`);
    chunks.push({ type, data });
    offset += 12 + length;
    if (type === 'IEND') return chunks;
  }
  throw new Error('truncated PNG (no IEND chunk)');
}

function isLatin1(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\u0001-\u00ff]*$/.test(text);
}

export function textChunk(keyword: string, text: string): Buffer {
  return encodeChunk('tEXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')]));
}

/** iTXt, uncompressed UTF-8, no language tag. */
export function itxtChunk(keyword: string, text: string): Buffer {
  return encodeChunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
}

/** tEXt when the text is Latin-1, else iTXt (what PIL, and so AUTOMATIC1111, does). */
export function textOrItxt(keyword: string, text: string): Buffer {
  return isLatin1(text) ? textChunk(keyword, text) : itxtChunk(keyword, text);
}

function keywordOf(chunk: PngChunk): string | null {
  if (chunk.type !== 'tEXt' && chunk.type !== 'zTXt' && chunk.type !== 'iTXt') return null;
  const nul = chunk.data.indexOf(0);
  return nul < 0 ? null : chunk.data.toString('latin1', 0, nul);
}

/** tEXt / zTXt / iTXt chunks as keyword → text (the first of a keyword wins). */
export function readTextChunks(chunks: PngChunk[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const chunk of chunks) {
    const keyword = keywordOf(chunk);
    if (keyword === null || texts.has(keyword)) continue;
    const nul = chunk.data.indexOf(0);
    try {
      if (chunk.type === 'tEXt') texts.set(keyword, chunk.data.toString('latin1', nul + 1));
      else if (chunk.type === 'zTXt') texts.set(keyword, inflateSync(chunk.data.subarray(nul + 2)).toString('latin1'));
      else {
        const compressed = chunk.data[nul + 1] === 1;
        const languageEnd = chunk.data.indexOf(0, nul + 3);
        const translatedEnd = chunk.data.indexOf(0, languageEnd + 1);
        if (languageEnd < 0 || translatedEnd < 0) continue;
        const body = chunk.data.subarray(translatedEnd + 1);
        texts.set(keyword, (compressed ? inflateSync(body) : body).toString('utf8'));
      }
    } catch {
      // A damaged text chunk is skipped; the picture itself is still fine.
    }
  }
  return texts;
}

export function pngSize(chunks: PngChunk[]): { width: number; height: number } | null {
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.data.length < 8) return null;
  return { width: ihdr.data.readUInt32BE(0), height: ihdr.data.readUInt32BE(4) };
}

/** Re-encodes a PNG without the text chunks named in `dropKeywords` and with `extra` right after IHDR. */
export function rewritePng(chunks: PngChunk[], extra: Buffer[], dropKeywords: ReadonlySet<string> = new Set()): Buffer {
  const parts: Buffer[] = [PNG_SIGNATURE];
  for (const chunk of chunks) {
    const keyword = keywordOf(chunk);
    if (keyword !== null && dropKeywords.has(keyword)) continue;
    parts.push(encodeChunk(chunk.type, chunk.data));
    if (chunk.type === 'IHDR') parts.push(...extra);
  }
  return Buffer.concat(parts);
}
