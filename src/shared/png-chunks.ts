/**
 * PNG at the chunk level, on plain bytes (no Node APIs, so the engine, main and the renderer can
 * all use it): CRC-32, reading and encoding chunks, tEXt / iTXt builders, reading text chunks and
 * inserting chunks after IHDR. Pixel encoding stays in the engine (src/engine/media/png.ts).
 */

/** The chunk a C2PA manifest store lives in (JUMBF, `caBX`). */
export const C2PA_PNG_CHUNK = 'caBX';

export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309), as PNG chunks and ZIP entries use it. Pass the previous value to continue. */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A CRC-32 with `crc32`'s signature (the engine passes zlib's native one for large IDAT chunks). */
export type Crc32 = (data: Uint8Array, previous?: number) => number;

/** An optional synchronous inflate (zlib stream) for zTXt and compressed iTXt; Node passes zlib.inflateSync. */
export type Inflate = (data: Uint8Array) => Uint8Array;

export interface PngChunk {
  type: string;
  data: Uint8Array;
}

/** Latin-1 bytes of `text` (the low byte of each UTF-16 unit, as Node's 'latin1' encoding). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Latin-1 text of `bytes` (every byte one character, unlike TextDecoder's 'latin1', which is windows-1252). */
export function latin1Text(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return out;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Length, type, data and CRC (over type and data) of one chunk. */
export function encodeChunk(type: string, data: Uint8Array, crc: Crc32 = crc32): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = view(out);
  dv.setUint32(0, data.length);
  out.set(latin1Bytes(type).subarray(0, 4), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc(data, crc(out.subarray(4, 8))));
  return out;
}

function hasSignature(png: Uint8Array): boolean {
  return png.length >= 8 && PNG_SIGNATURE.every((b, i) => png[i] === b);
}

/** Splits a PNG into chunks, checking the signature, every CRC and that IEND is present. */
export function readChunks(png: Uint8Array): PngChunk[] {
  if (!hasSignature(png)) throw new Error('not a PNG file');
  const dv = view(png);
  const chunks: PngChunk[] = [];
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = dv.getUint32(offset);
    const type = latin1Text(png.subarray(offset + 4, offset + 8));
    if (offset + 12 + length > png.length) throw new Error(`truncated PNG chunk ${type}`);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (dv.getUint32(offset + 8 + length) !== crc32(data, crc32(png.subarray(offset + 4, offset + 8)))) throw new Error(`bad CRC in PNG chunk ${type}`);
    chunks.push({ type, data });
    offset += 12 + length;
    if (type === 'IEND') return chunks;
  }
  throw new Error('truncated PNG (no IEND chunk)');
}

/** Whether `text` fits a tEXt chunk: Latin-1 without NUL. */
export function isLatin1(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\u0001-\u00ff]*$/.test(text);
}

/** tEXt (Latin-1 keyword and text). */
export function textChunk(keyword: string, text: string): Uint8Array {
  return encodeChunk('tEXt', concatBytes([latin1Bytes(keyword), Uint8Array.of(0), latin1Bytes(text)]));
}

/** iTXt, uncompressed UTF-8, no language tag. */
export function itxtChunk(keyword: string, text: string): Uint8Array {
  return encodeChunk('iTXt', concatBytes([latin1Bytes(keyword), Uint8Array.of(0, 0, 0, 0, 0), utf8Encoder.encode(text)]));
}

/** tEXt when the text is Latin-1, else iTXt (what PIL, and so AUTOMATIC1111, does). */
export function textOrItxt(keyword: string, text: string): Uint8Array {
  return isLatin1(text) ? textChunk(keyword, text) : itxtChunk(keyword, text);
}

function keywordOf(chunk: PngChunk): string | null {
  if (chunk.type !== 'tEXt' && chunk.type !== 'zTXt' && chunk.type !== 'iTXt') return null;
  const nul = chunk.data.indexOf(0);
  return nul < 0 ? null : latin1Text(chunk.data.subarray(0, nul));
}

/**
 * tEXt / zTXt / iTXt chunks as keyword → text (the first of a keyword wins). Compressed ones need
 * `inflate`; without it they are left out. A damaged text chunk is skipped.
 */
export function readTextChunks(chunks: readonly PngChunk[], inflate?: Inflate): Map<string, string> {
  const texts = new Map<string, string>();
  for (const chunk of chunks) {
    const keyword = keywordOf(chunk);
    if (keyword === null || texts.has(keyword)) continue;
    const nul = chunk.data.indexOf(0);
    try {
      if (chunk.type === 'tEXt') texts.set(keyword, latin1Text(chunk.data.subarray(nul + 1)));
      else if (chunk.type === 'zTXt') {
        if (inflate) texts.set(keyword, latin1Text(inflate(chunk.data.subarray(nul + 2))));
      } else {
        const compressed = chunk.data[nul + 1] === 1;
        const languageEnd = chunk.data.indexOf(0, nul + 3);
        const translatedEnd = languageEnd < 0 ? -1 : chunk.data.indexOf(0, languageEnd + 1);
        if (translatedEnd < 0) continue;
        const body = chunk.data.subarray(translatedEnd + 1);
        if (!compressed) texts.set(keyword, utf8Decoder.decode(body));
        else if (inflate) texts.set(keyword, utf8Decoder.decode(inflate(body)));
      }
    } catch {
      // A damaged text chunk is skipped; the picture itself is still fine.
    }
  }
  return texts;
}

/** Width and height from IHDR; null when the first chunk is not a valid IHDR. */
export function pngSize(chunks: readonly PngChunk[]): { width: number; height: number } | null {
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.data.length < 8) return null;
  const dv = view(ihdr.data);
  return { width: dv.getUint32(0), height: dv.getUint32(4) };
}

/**
 * `extra` chunks inserted right after IHDR of an existing PNG (e.g. one written by sharp); every
 * other byte is kept as it is (no re-encoding). Checks the PNG first.
 */
export function insertChunks(png: Uint8Array, extra: readonly Uint8Array[]): Uint8Array {
  readChunks(png);
  const ihdrEnd = 8 + 12 + view(png).getUint32(8);
  return concatBytes([png.subarray(0, ihdrEnd), ...extra, png.subarray(ihdrEnd)]);
}

/** Re-encodes a PNG without the text chunks named in `dropKeywords` and with `extra` right after IHDR. */
export function rewritePng(chunks: readonly PngChunk[], extra: readonly Uint8Array[], dropKeywords: ReadonlySet<string> = new Set()): Uint8Array {
  const parts: Uint8Array[] = [PNG_SIGNATURE];
  for (const chunk of chunks) {
    const keyword = keywordOf(chunk);
    if (keyword !== null && dropKeywords.has(keyword)) continue;
    parts.push(encodeChunk(chunk.type, chunk.data));
    if (chunk.type === 'IHDR') parts.push(...extra);
  }
  return concatBytes(parts);
}
