/**
 * Reading generation parameters out of PNGs written by other tools: AUTOMATIC1111 (`parameters`
 * infotext), ComfyUI (`prompt` API graph, `workflow`), InvokeAI (`invokeai_metadata`; 2.x
 * `sd-metadata` and `Dream`) and Atelier itself (`atelier`).
 */

export type ImportSource = 'a1111' | 'comfyui' | 'invokeai' | 'atelier';

export interface ImportedParams {
  source: ImportSource;
  prompt: string;
  negativePrompt: string;
  seed?: number;
  steps?: number;
  guidance?: number;
  /** The sampler as the tool named it. */
  sampler?: string;
  /** Atelier's scheduler, when the sampler has one. */
  scheduler?: string;
  width?: number;
  height?: number;
  /** Model (checkpoint) name as the tool recorded it. */
  model?: string;
  strength?: number;
  /** Recorded fields with no counterpart above (e.g. "VAE", "Schedule type"). */
  extra?: Record<string, string>;
}

const SCHEDULER_BY_SAMPLER: Record<string, string> = {
  euler: 'euler',
  'euler a': 'euler-a',
  euler_ancestral: 'euler-a',
  euler_a: 'euler-a',
  k_euler: 'euler',
  k_euler_a: 'euler-a',
  ddim: 'ddim',
  'dpm++ 2m karras': 'dpmpp-2m-karras',
  dpmpp_2m: 'dpmpp-2m-karras',
  dpmpp_2m_k: 'dpmpp-2m-karras',
  lcm: 'lcm',
};

function withSampler(params: ImportedParams, sampler: string | undefined, karras = false): void {
  if (!sampler) return;
  params.sampler = sampler;
  const key = sampler.toLowerCase();
  const scheduler = SCHEDULER_BY_SAMPLER[karras && key === 'dpm++ 2m' ? 'dpm++ 2m karras' : key];
  if (scheduler) params.scheduler = scheduler;
}

const toNumber = (value: unknown): number | undefined => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const toText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function prune(params: ImportedParams): ImportedParams {
  for (const key of Object.keys(params) as (keyof ImportedParams)[]) if (params[key] === undefined) delete params[key];
  if (params.extra && Object.keys(params.extra).length === 0) delete params.extra;
  return params;
}

/** AUTOMATIC1111 infotext: prompt lines, "Negative prompt: …" lines, then "Steps: 20, Sampler: …". */
export function parseA1111(text: string): ImportedParams {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let kvLine = '';
  if (lines.length > 0 && /(^|,\s*)Steps: \d+/.test(lines[lines.length - 1]!)) kvLine = lines.pop() ?? '';
  const promptLines: string[] = [];
  const negativeLines: string[] = [];
  let inNegative = false;
  for (const line of lines) {
    if (!inNegative && line.startsWith('Negative prompt:')) {
      inNegative = true;
      negativeLines.push(line.slice('Negative prompt:'.length).trim());
    } else (inNegative ? negativeLines : promptLines).push(line);
  }
  const kv: Record<string, string> = {};
  for (const m of kvLine.matchAll(/\s*([\w \-/+.()]+?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g)) {
    let value = m[2]!.trim();
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // keep it as written
      }
    }
    kv[m[1]!.trim()] = value;
  }
  const params: ImportedParams = { source: 'a1111', prompt: promptLines.join('\n').trim(), negativePrompt: negativeLines.join('\n').trim(), extra: {} };
  for (const [key, value] of Object.entries(kv)) {
    switch (key) {
      case 'Steps':
        params.steps = toNumber(value);
        break;
      case 'CFG scale':
        params.guidance = toNumber(value);
        break;
      case 'Seed':
        params.seed = toNumber(value);
        break;
      case 'Size': {
        const size = /^(\d+)x(\d+)$/.exec(value);
        if (size) {
          params.width = Number(size[1]);
          params.height = Number(size[2]);
        }
        break;
      }
      case 'Model':
        params.model = value;
        break;
      case 'Denoising strength':
        params.strength = toNumber(value);
        break;
      case 'Sampler':
        withSampler(params, value, (kv['Schedule type'] ?? '').toLowerCase() === 'karras');
        break;
      default:
        params.extra![key] = value;
    }
  }
  return prune(params);
}

type ComfyNode = { class_type?: unknown; inputs?: Record<string, unknown> };

/** ComfyUI's API-format graph (node id → { class_type, inputs }), following links from the KSampler. */
export function parseComfyPrompt(json: string): ImportedParams {
  const graph = JSON.parse(json) as Record<string, ComfyNode>;
  if (!graph || typeof graph !== 'object') throw new Error('the ComfyUI prompt is not an object');
  const nodes = Object.values(graph).filter((n): n is ComfyNode => Boolean(n) && typeof n === 'object');
  const linked = (value: unknown): ComfyNode | undefined => (Array.isArray(value) && value.length >= 1 ? graph[String(value[0])] : undefined);
  const textOf = (node: ComfyNode | undefined, depth = 0): string | undefined => {
    if (!node || depth > 8) return undefined;
    const text = node.inputs?.text ?? node.inputs?.text_g;
    if (typeof text === 'string') return text;
    if (Array.isArray(text)) return textOf(linked(text), depth + 1);
    const conditioning = node.inputs?.conditioning;
    return conditioning ? textOf(linked(conditioning), depth + 1) : undefined;
  };
  const params: ImportedParams = { source: 'comfyui', prompt: '', negativePrompt: '', extra: {} };
  const sampler = nodes.find((n) => typeof n.class_type === 'string' && n.class_type.startsWith('KSampler'));
  if (sampler?.inputs) {
    const i = sampler.inputs;
    params.seed = toNumber(i.seed ?? i.noise_seed);
    params.steps = toNumber(i.steps);
    params.guidance = toNumber(i.cfg);
    const denoise = toNumber(i.denoise);
    if (denoise !== undefined && denoise < 1) params.strength = denoise;
    withSampler(params, toText(i.sampler_name));
    if (typeof i.scheduler === 'string') params.extra!.scheduler = i.scheduler;
    params.prompt = textOf(linked(i.positive)) ?? '';
    params.negativePrompt = textOf(linked(i.negative)) ?? '';
    const latent = linked(i.latent_image);
    params.width = toNumber(latent?.inputs?.width);
    params.height = toNumber(latent?.inputs?.height);
  }
  const checkpoint = nodes.find((n) => typeof n.inputs?.ckpt_name === 'string');
  params.model = toText(checkpoint?.inputs?.ckpt_name);
  return prune(params);
}

/** InvokeAI 3+/4+ `invokeai_metadata` JSON. */
export function parseInvokeMetadata(json: string): ImportedParams {
  const doc = JSON.parse(json) as Record<string, unknown>;
  const model = doc.model;
  const modelName = typeof model === 'string' ? model : model && typeof model === 'object' ? toText((model as Record<string, unknown>).model_name ?? (model as Record<string, unknown>).name) : undefined;
  const params: ImportedParams = {
    source: 'invokeai',
    prompt: toText(doc.positive_prompt) ?? '',
    negativePrompt: toText(doc.negative_prompt) ?? '',
    seed: toNumber(doc.seed),
    steps: toNumber(doc.steps),
    guidance: toNumber(doc.cfg_scale),
    width: toNumber(doc.width),
    height: toNumber(doc.height),
    model: modelName,
    strength: toNumber(doc.strength),
    extra: {},
  };
  withSampler(params, toText(doc.scheduler));
  if (typeof doc.generation_mode === 'string') params.extra!.generation_mode = doc.generation_mode;
  return prune(params);
}

/** InvokeAI 2.x puts the negative prompt in [brackets] inside the prompt. */
function splitBracketNegative(prompt: string): { prompt: string; negativePrompt: string } {
  const negatives = [...prompt.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!.trim()).filter(Boolean);
  return { prompt: prompt.replace(/\[[^\]]*\]/g, '').replace(/\s+/g, ' ').trim(), negativePrompt: negatives.join(', ') };
}

/** InvokeAI 2.x `sd-metadata` JSON. */
export function parseInvokeSdMetadata(json: string): ImportedParams {
  const doc = JSON.parse(json) as Record<string, unknown>;
  const image = (doc.image && typeof doc.image === 'object' ? doc.image : {}) as Record<string, unknown>;
  const rawPrompt = Array.isArray(image.prompt)
    ? image.prompt.map((p: unknown) => (p && typeof p === 'object' ? (toText((p as Record<string, unknown>).prompt) ?? '') : String(p))).join(' ')
    : (toText(image.prompt) ?? '');
  const params: ImportedParams = {
    source: 'invokeai',
    ...splitBracketNegative(rawPrompt),
    seed: toNumber(image.seed),
    steps: toNumber(image.steps),
    guidance: toNumber(image.cfg_scale),
    width: toNumber(image.width),
    height: toNumber(image.height),
    model: toText(doc.model_weights) ?? toText(doc.model),
    strength: toNumber(image.strength),
  };
  withSampler(params, toText(image.sampler));
  return prune(params);
}

/** InvokeAI 2.x / lstein "Dream" command line: `"a prompt" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms`. */
export function parseInvokeDream(text: string): ImportedParams {
  const quoted = /^\s*"((?:\\.|[^"\\])*)"(.*)$/s.exec(text);
  const rawPrompt = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : (text.split(/\s-\w\s/)[0] ?? '');
  const flags = quoted ? quoted[2]! : text.slice(rawPrompt.length);
  const flag = (name: string): string | undefined => new RegExp(`(?:^|\\s)-${name}\\s+(\\S+)`).exec(flags)?.[1];
  const params: ImportedParams = {
    source: 'invokeai',
    ...splitBracketNegative(rawPrompt),
    steps: toNumber(flag('s')),
    seed: toNumber(flag('S')),
    width: toNumber(flag('W')),
    height: toNumber(flag('H')),
    guidance: toNumber(flag('C')),
    strength: toNumber(flag('f')),
  };
  withSampler(params, flag('A'));
  return prune(params);
}

/** The parameters of a PNG from its text chunks, or null when no known tool wrote them. */
export function paramsFromTextChunks(texts: Map<string, string>): ImportedParams | null {
  const a1111 = texts.get('parameters');
  if (a1111?.trim()) return parseA1111(a1111);
  const invoke = texts.get('invokeai_metadata');
  if (invoke) return parseInvokeMetadata(invoke);
  const sdMetadata = texts.get('sd-metadata');
  if (sdMetadata) return parseInvokeSdMetadata(sdMetadata);
  const dream = texts.get('Dream');
  if (dream) return parseInvokeDream(dream);
  const comfy = texts.get('prompt');
  if (comfy) return parseComfyPrompt(comfy);
  return null;
}
