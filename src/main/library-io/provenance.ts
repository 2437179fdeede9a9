import { inflateSync } from 'node:zlib';
import type { Generation } from '../../shared/contract';
import { C2PA_PNG_CHUNK, itxtChunk, readChunks, readTextChunks, rewritePng, textOrItxt } from '../../shared/png-chunks';
import { originOf, type GenerationOrigin } from '../library/generation-origin';
import { buildXmp, formatA1111Parameters, XMP_KEYWORD } from '../../shared/provenance';

/**
 * What an exported file says about where it came from: AUTOMATIC1111 infotext, the full Atelier
 * JSON and IPTC XMP for PNG; LIST/INFO for WAV; YAML front matter for Markdown.
 */

export const ATELIER_KEYWORD = 'atelier';
export const AI_STATEMENT = 'AI-generated with Atelier';

/** The `atelier` chunk / front matter document; `params` stays top-level so older readers find it. */
export interface AtelierProvenance extends GenerationOrigin {
  version: 1;
  generator: 'Atelier';
  params: Record<string, unknown>;
  provider: string | null;
  parentId: string | null;
  /** Ancestor ids, nearest first (remix lineage). */
  lineage: string[];
  created: string;
  createdAt: number;
  /** Numbers measured by search by meaning, when they were: prompt adherence (CLIPScore) and the batch's diversity. */
  adherence?: { score: number; model: string };
  batchDiversity?: { value: number; model: string; count: number };
}

export function provenanceOf(g: Generation, lineage: string[]): AtelierProvenance {
  return {
    version: 1,
    generator: 'Atelier',
    ...originOf(g),
    params: g.params,
    provider: g.provider,
    parentId: g.parentId,
    lineage,
    created: new Date(g.createdAt).toISOString(),
    createdAt: g.createdAt,
    ...(g.adherence ? { adherence: g.adherence } : {}),
    ...(g.batchDiversity ? { batchDiversity: g.batchDiversity } : {}),
  };
}

function field(params: Record<string, unknown>, key: string): string | number | undefined {
  const value = params[key];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** The infotext of a stored generation (the shared format the engine writes), from its params record. */
export function infotextOf(p: AtelierProvenance, asset: { width: number | null; height: number | null }): string {
  return formatA1111Parameters({
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    steps: field(p.params, 'steps'),
    scheduler: field(p.params, 'scheduler'),
    guidance: field(p.params, 'guidance'),
    seed: p.seed ?? field(p.params, 'seed'),
    width: field(p.params, 'width') ?? asset.width,
    height: field(p.params, 'height') ?? asset.height,
    model: p.model,
    strength: p.params.initAssetId !== undefined ? field(p.params, 'strength') : undefined,
  });
}

/**
 * The PNG with provenance: `parameters` and XMP are added only when missing (an engine-written
 * PNG already has them); the `atelier` chunk is always replaced by the full generation JSON. A C2PA
 * manifest the stored file carries is left out: it hashes the bytes this changes, so it would only
 * read as "invalid" (a signed export gets a new one that names the stored file as its parent).
 */
export function embedPngProvenance(png: Uint8Array, p: AtelierProvenance, asset: { width: number | null; height: number | null }): Uint8Array {
  const chunks = readChunks(png).filter((chunk) => chunk.type !== C2PA_PNG_CHUNK);
  const texts = readTextChunks(chunks, inflateSync);
  const extra: Uint8Array[] = [];
  if (!texts.has('parameters')) extra.push(textOrItxt('parameters', infotextOf(p, asset)));
  extra.push(itxtChunk(ATELIER_KEYWORD, JSON.stringify(p)));
  if (!texts.has(XMP_KEYWORD)) extra.push(itxtChunk(XMP_KEYWORD, buildXmp(p)));
  return rewritePng(chunks, extra, new Set([ATELIER_KEYWORD]));
}

export function audioComment(p: AtelierProvenance): string {
  const diversity = p.batchDiversity ? [`Batch diversity: ${p.batchDiversity.value.toFixed(3)} over ${p.batchDiversity.count} items (${p.batchDiversity.model})`] : [];
  return [p.prompt, `Model: ${p.model}`, `Parameters: ${JSON.stringify(p.params)}`, `Generation: ${p.id}`, ...diversity, AI_STATEMENT].join('\n');
}

function riffChunk(id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 4, 'ascii');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat(body.length % 2 ? [header, body, Buffer.alloc(1)] : [header, body]);
}

/**
 * The WAV with a LIST/INFO chunk (INAM, ICMT, ISFT, ICRD) placed before `data`, unless it already
 * has one. Anything that is not a well-formed RIFF/WAVE file is returned unchanged.
 */
export function embedWavProvenance(wav: Buffer, p: AtelierProvenance): Buffer {
  if (wav.length < 12 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') return wav;
  let offset = 12;
  let dataOffset = -1;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'LIST' && wav.toString('ascii', offset + 8, offset + 12) === 'INFO') return wav;
    if (id === 'data' && dataOffset < 0) dataOffset = offset;
    offset += 8 + size + (size % 2);
  }
  if (dataOffset < 0) return wav;
  const field = (id: string, text: string): Buffer => riffChunk(id, Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)]));
  const list = riffChunk(
    'LIST',
    Buffer.concat([
      Buffer.from('INFO', 'ascii'),
      field('INAM', p.prompt.slice(0, 200) || p.id),
      field('ICMT', audioComment(p)),
      field('ISFT', 'Atelier'),
      field('ICRD', p.created.slice(0, 10)),
    ]),
  );
  const out = Buffer.concat([wav.subarray(0, dataOffset), list, wav.subarray(dataOffset)]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

/** YAML front matter; strings are JSON-quoted, which is valid YAML and survives any prompt. */
export function markdownWithFrontMatter(p: AtelierProvenance, body: string): string {
  const lines = [
    '---',
    'generator: Atelier',
    `id: ${JSON.stringify(p.id)}`,
    `kind: ${p.kind}`,
    `model: ${JSON.stringify(p.model)}`,
    `prompt: ${JSON.stringify(p.prompt)}`,
    `params: ${JSON.stringify(p.params)}`,
    `seed: ${p.seed === null ? 'null' : String(p.seed)}`,
    `provider: ${p.provider === null ? 'null' : JSON.stringify(p.provider)}`,
    'ai_generated: true',
    `created: ${JSON.stringify(p.created)}`,
    `parent: ${p.parentId === null ? 'null' : JSON.stringify(p.parentId)}`,
    `lineage: ${JSON.stringify(p.lineage)}`,
    ...(p.batchDiversity ? [`batch_diversity: ${JSON.stringify(p.batchDiversity)}`] : []),
    '---',
    '',
  ];
  return `${lines.join('\n')}${body}${body.endsWith('\n') ? '' : '\n'}`;
}
