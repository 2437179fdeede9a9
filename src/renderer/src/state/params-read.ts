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
 * Reading generation parameters out of a dropped PNG, in the renderer: AUTOMATIC1111's `parameters`
 * infotext, ComfyUI's `prompt` graph and Atelier's own `atelier` JSON.
 * (The main process has a fuller reader in library-io/png-metadata.ts; that one belongs in
 * src/shared so both sides use a single copy.)
 */
export interface PngParams {
  source: 'a1111' | 'comfyui' | 'atelier';
  prompt?: string;
  negativePrompt?: string;
  steps?: number;
  guidance?: number;
  seed?: number;
  width?: number;
  height?: number;
  /** The sampler as the tool named it, and Atelier's scheduler when one matches. */
  sampler?: string;
  scheduler?: string;
  strength?: number;
  model?: string;
}

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

const SCHEDULER_BY_SAMPLER: Record<string, string> = {
  euler: 'euler',
  'euler a': 'euler-a',
  euler_ancestral: 'euler-a',
  euler_a: 'euler-a',
  ddim: 'ddim',
  'dpm++ 2m karras': 'dpmpp-2m-karras',
  'dpm++ 2m': 'dpmpp-2m-karras',
  dpmpp_2m: 'dpmpp-2m-karras',
  lcm: 'lcm',
};

function toNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function withSampler(params: PngParams, sampler: string | undefined): void {
  if (!sampler) return;
  params.sampler = sampler;
  const scheduler = SCHEDULER_BY_SAMPLER[sampler.toLowerCase()];
  if (scheduler) params.scheduler = scheduler;
}

/** AUTOMATIC1111 infotext: prompt lines, "Negative prompt: …" lines, then "Steps: 20, Sampler: …". */
export function parseA1111(text: string): PngParams {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let settings = '';
  const last = lines[lines.length - 1];
  if (last !== undefined && /(^|,\s*)Steps: \d+/.test(last)) settings = lines.pop() ?? '';
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const line of lines) {
    if (!inNegative && line.startsWith('Negative prompt:')) {
      inNegative = true;
      negative.push(line.slice('Negative prompt:'.length).trim());
    } else (inNegative ? negative : prompt).push(line);
  }
  const kv: Record<string, string> = {};
  for (const m of settings.matchAll(/\s*([\w \-/+.()]+?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g)) {
    const key = m[1]?.trim();
    if (key) kv[key] = (m[2] ?? '').trim();
  }
  const params: PngParams = { source: 'a1111', prompt: prompt.join('\n').trim(), negativePrompt: negative.join('\n').trim() };
  params.steps = toNumber(kv.Steps);
  params.guidance = toNumber(kv['CFG scale']);
  params.seed = toNumber(kv.Seed);
  params.strength = toNumber(kv['Denoising strength']);
  params.model = kv.Model;
  const size = /^(\d+)x(\d+)$/.exec(kv.Size ?? '');
  if (size) {
    params.width = Number(size[1]);
    params.height = Number(size[2]);
  }
  const karras = (kv['Schedule type'] ?? '').toLowerCase() === 'karras';
  withSampler(params, kv.Sampler && karras && kv.Sampler.toLowerCase() === 'dpm++ 2m' ? 'DPM++ 2M Karras' : kv.Sampler);
  return params;
}

type ComfyNode = { class_type?: unknown; inputs?: Record<string, unknown> };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** ComfyUI's API graph (node id → { class_type, inputs }), following links from the KSampler. */
export function parseComfyPrompt(json: string): PngParams {
  const parsed: unknown = JSON.parse(json);
  if (!isRecord(parsed)) throw new Error('The ComfyUI prompt is not an object.');
  const graph: Record<string, ComfyNode> = {};
  for (const [id, node] of Object.entries(parsed)) if (isRecord(node)) graph[id] = { class_type: node.class_type, inputs: isRecord(node.inputs) ? node.inputs : undefined };
  const linked = (value: unknown): ComfyNode | undefined => (Array.isArray(value) && value.length >= 1 ? graph[String(value[0])] : undefined);
  const textOf = (node: ComfyNode | undefined, depth = 0): string | undefined => {
    if (!node || depth > 8) return undefined;
    const text = node.inputs?.text ?? node.inputs?.text_g;
    if (typeof text === 'string') return text;
    if (Array.isArray(text)) return textOf(linked(text), depth + 1);
    return node.inputs?.conditioning ? textOf(linked(node.inputs.conditioning), depth + 1) : undefined;
  };
  const params: PngParams = { source: 'comfyui' };
  const nodes = Object.values(graph);
  const sampler = nodes.find((n) => typeof n.class_type === 'string' && n.class_type.startsWith('KSampler'));
  const i = sampler?.inputs;
  if (i) {
    params.seed = toNumber(i.seed ?? i.noise_seed);
    params.steps = toNumber(i.steps);
    params.guidance = toNumber(i.cfg);
    const denoise = toNumber(i.denoise);
    if (denoise !== undefined && denoise < 1) params.strength = denoise;
    const name = typeof i.sampler_name === 'string' ? i.sampler_name : undefined;
    withSampler(params, name === 'dpmpp_2m' && i.scheduler === 'karras' ? 'dpm++ 2m karras' : name);
    params.prompt = textOf(linked(i.positive)) ?? '';
    params.negativePrompt = textOf(linked(i.negative)) ?? '';
    const latent = linked(i.latent_image);
    params.width = toNumber(latent?.inputs?.width);
    params.height = toNumber(latent?.inputs?.height);
  }
  const checkpoint = nodes.find((n) => typeof n.inputs?.ckpt_name === 'string');
  const ckpt = checkpoint?.inputs?.ckpt_name;
  if (typeof ckpt === 'string') params.model = ckpt;
  return params;
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
  const a1111 = texts.get('parameters');
  if (a1111?.trim()) return parseA1111(a1111);
  const comfy = texts.get('prompt');
  if (comfy) return parseComfyPrompt(comfy);
  return null;
}
