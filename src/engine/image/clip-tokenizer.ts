import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CLIP's byte-level BPE tokenizer, loaded from a diffusers `tokenizer/` folder: `vocab.json` +
 * `merges.txt` (+ `tokenizer_config.json`, `special_tokens_map.json`), or `tokenizer.json` when
 * present. Text is cleaned like CLIP (HTML entities unescaped, whitespace collapsed, lower-cased),
 * split with CLIP's pattern, mapped to bytes→unicode and merged by rank with a `</w>` word end.
 * Output: [bos, …tokens (truncated to max_length − 2)…, eos, pad…] of exactly `maxLength` ids.
 */
export interface ClipTokenizerOptions {
  vocab: Record<string, number>;
  /** "a b" merge rules in rank order. */
  merges: string[];
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  unkToken?: string;
  maxLength?: number;
}

const PATTERN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

/** GPT-2/CLIP bytes_to_unicode: printable bytes map to themselves, the rest to U+0100…. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table: string[] = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i])));
  return table;
}
const BYTE_ENCODER = bytesToUnicode();

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
function htmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[body.toLowerCase()] ?? m;
  });
}

/** CLIP's basic_clean + whitespace_clean + lower(). */
export function cleanText(text: string): string {
  let t = htmlUnescape(htmlUnescape(text.normalize('NFC')));
  t = t.replace(/\s+/g, ' ').trim();
  return t.toLowerCase();
}

function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'content' in v && typeof (v as { content: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

export class ClipTokenizer {
  readonly vocab: Map<string, number>;
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly maxLength: number;

  constructor(opts: ClipTokenizerOptions) {
    this.vocab = new Map(Object.entries(opts.vocab));
    opts.merges.forEach((m, i) => this.ranks.set(m, i));
    const id = (tok: string, what: string): number => {
      const v = this.vocab.get(tok);
      if (v === undefined) throw new Error(`The tokenizer vocabulary has no ${what} token "${tok}".`);
      return v;
    };
    this.bosId = id(opts.bosToken ?? '<|startoftext|>', 'start');
    this.eosId = id(opts.eosToken ?? '<|endoftext|>', 'end');
    this.padId = id(opts.padToken ?? opts.eosToken ?? '<|endoftext|>', 'padding');
    this.unkId = id(opts.unkToken ?? '<|endoftext|>', 'unknown');
    this.maxLength = opts.maxLength ?? 77;
  }

  /** Load from a diffusers `tokenizer/` folder. */
  static fromDir(dir: string): ClipTokenizer {
    const readJson = (name: string): Record<string, unknown> | undefined => {
      const p = join(dir, name);
      return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>) : undefined;
    };
    const config = readJson('tokenizer_config.json') ?? {};
    const special = readJson('special_tokens_map.json') ?? {};
    const pick = (key: string): string | undefined => tokenName(config[key]) ?? tokenName(special[key]);
    const maxRaw = config.model_max_length;
    const maxLength = typeof maxRaw === 'number' && maxRaw > 0 && maxRaw < 100_000 ? maxRaw : 77;
    let vocab: Record<string, number>;
    let merges: string[];
    const vocabPath = join(dir, 'vocab.json');
    const tj = readJson('tokenizer.json');
    if (tj && (!existsSync(vocabPath) || !existsSync(join(dir, 'merges.txt')))) {
      const model = tj.model as { vocab?: Record<string, number>; merges?: (string | [string, string])[] } | undefined;
      if (!model?.vocab || !model.merges) throw new Error(`${join(dir, 'tokenizer.json')} is not a BPE tokenizer.`);
      vocab = model.vocab;
      merges = model.merges.map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
    } else {
      if (!existsSync(vocabPath)) throw new Error(`The tokenizer folder ${dir} has neither vocab.json + merges.txt nor tokenizer.json.`);
      vocab = JSON.parse(readFileSync(vocabPath, 'utf8')) as Record<string, number>;
      merges = readFileSync(join(dir, 'merges.txt'), 'utf8')
        .split('\n')
        .filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version')));
    }
    return new ClipTokenizer({
      vocab,
      merges,
      bosToken: pick('bos_token'),
      eosToken: pick('eos_token'),
      padToken: pick('pad_token'),
      unkToken: pick('unk_token'),
      maxLength,
    });
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), `${chars[chars.length - 1]}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = word[best];
      const b = word[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          merged.push(a + b);
          i += 2;
        } else {
          merged.push(word[i]);
          i++;
        }
      }
      word = merged;
    }
    if (this.cache.size < 10_000) this.cache.set(token, word);
    return word;
  }

  /** Token ids of the text without bos/eos, padding or truncation. */
  encodeRaw(text: string): number[] {
    const ids: number[] = [];
    const clean = cleanText(text);
    for (const m of clean.matchAll(PATTERN)) {
      const piece = m[0];
      const special = this.vocab.get(piece);
      if ((piece === '<|startoftext|>' || piece === '<|endoftext|>') && special !== undefined) {
        ids.push(special);
        continue;
      }
      const bytes = new TextEncoder().encode(piece);
      const mapped = Array.from(bytes, (b) => BYTE_ENCODER[b]).join('');
      for (const sub of this.bpe(mapped)) ids.push(this.vocab.get(sub) ?? this.unkId);
    }
    return ids;
  }

  /** [bos, …, eos, pad…] of exactly `maxLength` ids (content truncated to maxLength − 2). */
  encode(text: string): number[] {
    const body = this.encodeRaw(text).slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...body, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }
}
