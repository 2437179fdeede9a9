import type { Generation } from '../../shared/contract';
import { itxtChunk, readChunks, readTextChunks, rewritePng, textOrItxt, TRAINED_ALGORITHMIC_MEDIA, XMP_KEYWORD } from './png-chunks';

/**
 * What an exported file says about where it came from: AUTOMATIC1111 infotext, the full Atelier
 * JSON and IPTC XMP for PNG; LIST/INFO for WAV; YAML front matter for Markdown.
 */

export const ATELIER_KEYWORD = 'atelier';
export const AI_STATEMENT = 'AI-generated with Atelier';

/** The `atelier` chunk / front matter document; `params` stays top-level so older readers find it. */
export interface AtelierProvenance {
  version: 1;
  generator: 'Atelier';
  id: string;
  kind: Generation['kind'];
  model: string;
  modelDigest: string | null;
  prompt: string;
  negativePrompt: string;
  seed: number | null;
  params: Record<string, unknown>;
  provider: string | null;
  parentId: string | null;
  /** Ancestor ids, nearest first (remix lineage). */
  lineage: string[];
  created: string;
  createdAt: number;
}

export function provenanceOf(g: Generation, lineage: string[]): AtelierProvenance {
  return {
    version: 1,
    generator: 'Atelier',
    id: g.id,
    kind: g.kind,
    model: g.model,
    modelDigest: g.modelDigest,
    prompt: g.prompt,
    negativePrompt: g.negativePrompt,
    seed: g.seed,
    params: g.params,
    provider: g.provider,
    parentId: g.parentId,
    lineage,
    created: new Date(g.createdAt).toISOString(),
    createdAt: g.createdAt,
  };
}

const A1111_SAMPLER: Record<string, string> = {
  euler: 'Euler',
  'euler-a': 'Euler a',
  ddim: 'DDIM',
  'dpmpp-2m-karras': 'DPM++ 2M Karras',
  lcm: 'LCM',
};

function field(params: Record<string, unknown>, key: string): string | number | undefined {
  const value = params[key];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** AUTOMATIC1111's infotext: prompt, "Negative prompt: …", then "Key: value, …". */
export function formatA1111Parameters(p: AtelierProvenance, asset: { width: number | null; height: number | null }): string {
  const width = field(p.params, 'width') ?? asset.width;
  const height = field(p.params, 'height') ?? asset.height;
  const scheduler = field(p.params, 'scheduler');
  const fields: [string, string | number | undefined | null][] = [
    ['Steps', field(p.params, 'steps')],
    ['Sampler', typeof scheduler === 'string' ? (A1111_SAMPLER[scheduler] ?? scheduler) : undefined],
    ['CFG scale', field(p.params, 'guidance')],
    ['Seed', p.seed ?? field(p.params, 'seed')],
    ['Size', width && height ? `${width}x${height}` : undefined],
    ['Model', p.model],
    ['Denoising strength', p.params.initAssetId !== undefined ? field(p.params, 'strength') : undefined],
  ];
  const quote = (value: string | number): string => {
    const text = String(value);
    return /[,:\n"]/.test(text) ? JSON.stringify(text) : text;
  };
  const lines = [p.prompt];
  if (p.negativePrompt) lines.push(`Negative prompt: ${p.negativePrompt}`);
  lines.push(
    fields
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== null && entry[1] !== '')
      .map(([key, value]) => `${key}: ${quote(value)}`)
      .join(', '),
  );
  return lines.join('\n');
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function buildXmp(p: { prompt: string; model: string }): string {
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
    `    Iptc4xmpExt:DigitalSourceType="${TRAINED_ALGORITHMIC_MEDIA}"`,
    `    xmp:CreatorTool="Atelier (${xmlEscape(p.model)})">`,
    '   <dc:description>',
    '    <rdf:Alt>',
    `     <rdf:li xml:lang="x-default">${xmlEscape(p.prompt)}</rdf:li>`,
    '    </rdf:Alt>',
    '   </dc:description>',
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="r"?>',
  ].join('\n');
}

/**
 * The PNG with provenance: `parameters` and XMP are added only when missing (an engine-written
 * PNG already has them); the `atelier` chunk is always replaced by the full generation JSON.
 */
export function embedPngProvenance(png: Uint8Array, p: AtelierProvenance, asset: { width: number | null; height: number | null }): Buffer {
  const chunks = readChunks(png);
  const texts = readTextChunks(chunks);
  const extra: Buffer[] = [];
  if (!texts.has('parameters')) extra.push(textOrItxt('parameters', formatA1111Parameters(p, asset)));
  extra.push(itxtChunk(ATELIER_KEYWORD, JSON.stringify(p)));
  if (!texts.has(XMP_KEYWORD)) extra.push(itxtChunk(XMP_KEYWORD, buildXmp(p)));
  return rewritePng(chunks, extra, new Set([ATELIER_KEYWORD]));
}

export function audioComment(p: AtelierProvenance): string {
  return [p.prompt, `Model: ${p.model}`, `Parameters: ${JSON.stringify(p.params)}`, `Generation: ${p.id}`, AI_STATEMENT].join('\n');
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
    '---',
    '',
  ];
  return `${lines.join('\n')}${body}${body.endsWith('\n') ? '' : '\n'}`;
}
