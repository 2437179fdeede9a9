import { StudioError } from '../../shared/errors';
import type { GgufQuant, GgufQuantList } from '../../shared/contract';
import type { HubFile } from './hub-client';

/**
 * The GGUF quantisations of a hub repository, from its file tree: one entry per model file (Q4_K_M,
 * Q8_0, F16, …) with its size. Publishers put each quantisation in one file
 * (`Llama-3.2-1B-Instruct-Q4_K_M.gguf`, `qwen2.5-0.5b-instruct-q4_k_m.gguf`); big models come split
 * in parts (`…-Q8_0-00001-of-00003.gguf`, sometimes in a folder per quantisation). Atelier
 * downloads single-file quantisations only: a split one is listed, unsupported, with the reason.
 */

/** The order in which a default is looked for: Q4_K_M is the usual balance of size and quality. */
const DEFAULT_ORDER = ['Q4_K_M', 'Q4_K_S', 'Q5_K_M', 'Q4_0', 'Q8_0', 'Q6_K', 'Q5_K_S'];

const SPLIT_PART = /-(\d{5})-of-(\d{5})\.gguf$/i;
/** A quantisation name inside a file name: IQ4_XS, Q4_K_M, Q4_0_4_4, Q8_0, F16, BF16, F32, … */
const QUANT_NAME = /(?:^|[-_.])((?:I?Q\d+(?:_[A-Z0-9]+)*)|B?F16|FP16|F32|FP32)(?=\.gguf$|-\d{5}-of-\d{5}\.gguf$|[-.])/i;
/** Characters the download's file patterns (glob.ts) would read as patterns, not letters. */
const GLOB_CHARS = /[*?{}]/;

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

/** The quantisation a file name names, upper-cased (`q4_k_m` → `Q4_K_M`), or the file's stem. */
export function quantOfFile(file: string): string {
  const name = baseName(file);
  const match = QUANT_NAME.exec(name);
  return match?.[1] ? match[1].toUpperCase() : name.replace(SPLIT_PART, '').replace(/\.gguf$/i, '');
}

export function listGgufQuants(files: readonly HubFile[]): GgufQuantList {
  const singles: GgufQuant[] = [];
  const splits = new Map<string, { quant: string; first: string; parts: number; seen: number; bytes: number }>();
  for (const file of files) {
    const name = baseName(file.path);
    if (!/\.gguf$/i.test(name) || name.startsWith('.')) continue;
    // Projectors of vision models are not a language model to pick.
    if (/^mmproj/i.test(name)) continue;
    const part = SPLIT_PART.exec(name);
    if (part) {
      const key = file.path.replace(SPLIT_PART, '');
      const group = splits.get(key) ?? { quant: quantOfFile(file.path), first: file.path, parts: Number(part[2]), seen: 0, bytes: 0 };
      group.seen++;
      group.bytes += file.size;
      if (Number(part[1]) === 1) group.first = file.path;
      splits.set(key, group);
      continue;
    }
    const unsafe = GLOB_CHARS.test(file.path);
    singles.push({
      quant: quantOfFile(file.path),
      file: file.path,
      bytes: file.size,
      parts: 1,
      supported: !unsafe,
      ...(unsafe ? { reason: 'its file name holds *, ?, { or }, which Atelier cannot download by name' } : {}),
    });
  }
  const split: GgufQuant[] = [...splits.values()].map((g) => ({
    quant: g.quant,
    file: g.first,
    bytes: g.bytes,
    parts: g.parts,
    supported: false,
    reason: g.seen === g.parts ? `split into ${g.parts} files; Atelier downloads single-file quantisations only` : `split into ${g.parts} files, of which the hub lists ${g.seen}`,
  }));
  const quants = [...singles, ...split].sort((a, b) => a.bytes - b.bytes || a.file.localeCompare(b.file));
  return { quants, defaultFile: defaultQuantFile(quants) };
}

/** Q4_K_M when there is a single-file one, then the next best of DEFAULT_ORDER, then the smallest supported file. */
export function defaultQuantFile(quants: readonly GgufQuant[]): string | null {
  const supported = quants.filter((q) => q.supported);
  for (const name of DEFAULT_ORDER) {
    const hit = supported.find((q) => q.quant === name);
    if (hit) return hit.file;
  }
  return supported[0]?.file ?? null;
}

/** The file to download for `quant` (a name like q4_k_m, or a file path from the list); a clear error otherwise. */
export function fileForQuant(list: GgufQuantList, repo: string, quant: string): string {
  const wanted = quant.trim();
  const matches = list.quants.filter((q) => q.file === wanted || q.quant === wanted.toUpperCase());
  const offered = list.quants.filter((q) => q.supported).map((q) => q.quant);
  if (list.quants.length === 0) throw new StudioError('INVALID_INPUT', `${repo} holds no .gguf file; pick a GGUF repository or pass file patterns instead.`);
  if (matches.length === 0) throw new StudioError('INVALID_INPUT', `${repo} has no ${wanted} quantisation; it offers ${offered.join(', ') || 'no single-file one'}.`);
  const usable = matches.filter((q) => q.supported);
  if (usable.length === 0) throw new StudioError('INVALID_INPUT', `${wanted} of ${repo} cannot be downloaded: ${matches[0]!.reason ?? 'unsupported'}. Pick one of: ${offered.join(', ') || 'none'}.`);
  if (usable.length > 1) throw new StudioError('INVALID_INPUT', `${repo} has several ${wanted} files (${usable.map((q) => q.file).join(', ')}); pass one of these file names instead.`);
  return usable[0]!.file;
}
