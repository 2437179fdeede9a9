import { paramsFromTextChunks, type ImportedParams, type ImportSource } from '../../../shared/png-metadata';

/** Narrowing helpers for reading stored generation parameters (a JSON record) back into forms. */
export function num(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function str(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reading generation parameters out of a dropped PNG, in the renderer. The parsers of other tools'
 * chunks (AUTOMATIC1111, ComfyUI, InvokeAI) are shared with the library importer (src/shared);
 * only reading the chunks (with the browser's DecompressionStream) and Atelier's own chunk are here.
 */
export type PngParams = Partial<ImportedParams> & { source: ImportSource };

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

async function inflate(data: Uint8Array): Promise<string> {
  const stream = new Blob([new Uint8Array(data)]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new TextDecoder().decode(await new Response(stream).arrayBuffer());
}

/** tEXt (Latin-1), zTXt (deflated) and iTXt (UTF-8, optionally deflated) chunks by keyword. */
export async function readPngText(bytes: Uint8Array): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error('This file is not a PNG.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder();
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = latin1.decode(bytes.subarray(offset + 4, offset + 8));
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    offset += 12 + length;
    if (type === 'IEND') break;
    if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') continue;
    const nul = data.indexOf(0);
    if (nul <= 0) continue;
    const keyword = latin1.decode(data.subarray(0, nul));
    try {
      if (type === 'tEXt') texts.set(keyword, latin1.decode(data.subarray(nul + 1)));
      else if (type === 'zTXt') texts.set(keyword, await inflate(data.subarray(nul + 2)));
      else {
        const compressed = data[nul + 1] === 1;
        let at = nul + 3;
        const langEnd = data.indexOf(0, at);
        if (langEnd < 0) continue;
        const transEnd = data.indexOf(0, langEnd + 1);
        if (transEnd < 0) continue;
        at = transEnd + 1;
        const body = data.subarray(at);
        texts.set(keyword, compressed ? await inflate(body) : utf8.decode(body));
      }
    } catch {
      // a damaged chunk: skip it and read the others
    }
  }
  return texts;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Atelier's own `atelier` chunk: the generation's parameters as JSON (directly or under `params`). */
export function parseAtelier(json: string): PngParams {
  const parsed: unknown = JSON.parse(json);
  if (!isRecord(parsed)) throw new Error('The Atelier metadata is not an object.');
  const p = isRecord(parsed.params) ? { ...parsed, ...parsed.params } : parsed;
  const params: PngParams = {
    source: 'atelier',
    prompt: str(p, 'prompt'),
    negativePrompt: str(p, 'negativePrompt'),
    steps: num(p, 'steps'),
    guidance: num(p, 'guidance'),
    seed: num(p, 'seed'),
    width: num(p, 'width'),
    height: num(p, 'height'),
    strength: num(p, 'strength'),
    model: str(p, 'model'),
  };
  const scheduler = str(p, 'scheduler');
  if (scheduler) params.scheduler = scheduler;
  return params;
}

/** The parameters a PNG carries, or null when no known tool wrote them. Atelier's own chunk wins. */
export async function paramsFromPng(bytes: Uint8Array): Promise<PngParams | null> {
  const texts = await readPngText(bytes);
  const atelier = texts.get('atelier');
  if (atelier) {
    try {
      return parseAtelier(atelier);
    } catch {
      // fall through to the widely read chunks
    }
  }
  return paramsFromTextChunks(texts);
}
