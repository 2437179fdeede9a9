import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Messages tell people where to go ("Settings → Performance → Execution provider"). This reads
 * every such place out of the source and walks it through the views a person actually sees: the
 * rail's labels, then the headings, legends and labels of that view (components inlined), each
 * step inside the one before.
 */

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SRC = path.join(ROOT, 'src');
const RENDERER = path.join(SRC, 'renderer/src');

// Places that are wrong today but owned by another branch; each names the one string it excuses.
const KNOWN_EXCEPTIONS: { file: string; place: string }[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|svelte)$/.test(entry.name) ? [full] : [];
  });
}

/** Rail label → the view file it opens. */
function railViews(): Map<string, string> {
  const rail = readFileSync(path.join(RENDERER, 'components/Rail.svelte'), 'utf8');
  const views = new Map<string, string>();
  for (const [, view, label] of rail.matchAll(/\{\s*view:\s*'(\w+)',\s*label:\s*'([^']+)'/g)) {
    views.set(label!, path.join(RENDERER, `views/${view![0]!.toUpperCase()}${view!.slice(1)}View.svelte`));
  }
  return views;
}

/** A Svelte file with the markup of the components it uses written in place of their tags. */
function inlineComponents(file: string, seen: Set<string> = new Set()): string {
  if (seen.has(file)) return '';
  const text = readFileSync(file, 'utf8');
  let out = text;
  for (const [, name, spec] of text.matchAll(/import\s+(\w+)\s+from\s+'([^']+\.svelte)'/g)) {
    const component = path.resolve(path.dirname(file), spec!);
    const markup = inlineComponents(component, new Set([...seen, file]));
    // The component's own markup, then whatever was passed inside its tag (snippets, children).
    out = out.replace(new RegExp(`<${name}\\b[^>]*?(?:/>|>([\\s\\S]*?)</${name}>)`, 'g'), (_tag, inner: string | undefined) => markup + (inner ?? ''));
  }
  return out;
}

interface Landmark {
  /** 1–6 for headings; 7 for legends and labels, which contain nothing. */
  level: number;
  text: string;
}

const normalise = (text: string): string => text.replace(/\s+/g, ' ').trim().toLowerCase();

function landmarks(markup: string): Landmark[] {
  const found: Landmark[] = [];
  for (const match of markup.matchAll(/<(h[1-6]|legend|label)\b[^>]*>([\s\S]*?)<\/\1>/g)) {
    const tag = match[1]!;
    const text = match[2]!.replace(/<[^>]*>/g, ' ').replace(/\{[^}]*\}/g, ' ');
    found.push({ level: tag.startsWith('h') ? Number(tag.slice(1)) : 7, text: normalise(text) });
  }
  return found;
}

/** Why the path does not lead anywhere in the view, or null when it does. */
function walk(marks: Landmark[], steps: string[]): string | null {
  let from = 0;
  let end = marks.length;
  for (const step of steps) {
    const wanted = normalise(step);
    let index = -1;
    for (let i = from; i < end; i++) {
      const text = marks[i]!.text;
      if (text.length > 0 && (wanted === text || wanted.startsWith(`${text} `))) {
        index = i;
        break;
      }
    }
    if (index < 0) return `no "${step}" there`;
    const level = marks[index]!.level;
    from = index + 1;
    end = from;
    while (end < marks.length && marks[end]!.level > level) end++;
  }
  return null;
}

interface Mention {
  file: string;
  place: string;
}

/** The source without its comments (they talk about the code, not to the person using it). */
function withoutComments(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join('\n');
}

function mentionedPlaces(viewNames: string[]): { paths: Mention[]; vague: Mention[] } {
  const names = viewNames.join('|');
  const pathPattern = new RegExp(`\\b(?:${names})(?:\\s*→\\s*[^→.,;:()"“”'\`\\n]+)+`, 'g');
  // "the token in Settings": what comes before says what to look for, with no path to it.
  const vaguePattern = new RegExp(`((?:[\\w-]+ ){1,3})in (?:the )?Settings\\b(?!\\s*→)|\\bthe ([A-Z]\\w*) (?:tab|view|panel)\\b`, 'g');
  const paths: Mention[] = [];
  const vague: Mention[] = [];
  for (const file of sourceFiles(SRC)) {
    const relative = path.relative(ROOT, file).split(path.sep).join('/');
    const text = withoutComments(readFileSync(file, 'utf8'));
    for (const match of text.matchAll(pathPattern)) paths.push({ file: relative, place: match[0].replace(/\s+/g, ' ').trim() });
    for (const match of text.matchAll(vaguePattern)) {
      if (match[2] !== undefined ? !viewNames.includes(match[2]) : true) vague.push({ file: relative, place: match[0].trim() });
    }
  }
  return { paths, vague };
}

const FILLER = new Set(['a', 'an', 'the', 'and', 'or', 'of', 'to', 'your', 'add', 'try', 'choose', 'set', 'change', 'is', 'it', 'with']);

/**
 * "try the CPU provider in Settings" is vague but true: Settings shows an Execution provider. A
 * vague mention passes only when one of its words is a word of a heading or label of that view.
 */
function namesSomethingShownIn(marks: Landmark[], mention: string): boolean {
  const shown = new Set(marks.flatMap((m) => m.text.split(/[^\p{L}\p{N}]+/u)));
  const words = mention.replace(/\bin (the )?Settings$/, '').toLowerCase().split(/[^\p{L}\p{N}]+/u);
  return words.some((word) => word.length >= 3 && !FILLER.has(word) && shown.has(word));
}

function problems(): string[] {
  const views = railViews();
  const { paths, vague } = mentionedPlaces([...views.keys()]);
  const out: string[] = [];
  for (const { file, place } of paths) {
    if (KNOWN_EXCEPTIONS.some((e) => e.file === file && e.place === place)) continue;
    const [view, ...steps] = place.split(/\s*→\s*/);
    const markup = inlineComponents(views.get(view!)!);
    const why = walk(landmarks(markup), steps);
    if (why) out.push(`${file}: "${place}": ${why}`);
  }
  const settings = landmarks(inlineComponents(views.get('Settings')!));
  for (const { file, place } of vague) {
    if (!/Settings$/.test(place) || !namesSomethingShownIn(settings, place)) out.push(`${file}: "${place}": nothing of that name in that view (write the path, e.g. Settings → Performance → Execution provider)`);
  }
  return out;
}

describe('places named in messages', () => {
  it('finds the places the messages name (the check is not looking at nothing)', () => {
    const { paths } = mentionedPlaces([...railViews().keys()]);
    expect(paths.map((p) => p.file)).toEqual(expect.arrayContaining(['src/engine/runtime/sessions.ts', 'src/engine/runtime/run-failures.ts']));
  });

  it('walks a real place and refuses made-up ones', () => {
    const settings = landmarks(inlineComponents(railViews().get('Settings')!));
    expect(walk(settings, ['Performance', 'Execution provider'])).toBeNull();
    expect(walk(settings, ['Engine', 'Provider'])).not.toBeNull();
    // A label of another section is not inside Performance.
    expect(walk(settings, ['Performance', 'Model hub endpoint'])).not.toBeNull();
    const models = landmarks(inlineComponents(railViews().get('Models')!));
    expect(walk(models, ['Downloads', 'Hugging Face access token'])).toBeNull();
  });

  it('every place a message names exists in the app', () => {
    expect(problems()).toEqual([]);
  });
});
