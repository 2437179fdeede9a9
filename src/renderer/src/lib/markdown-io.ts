/**
 * Markdown files in and out of the Write view. Export writes YAML front matter (title, dates,
 * word count, generator and the passages that came from accepted AI suggestions, with their
 * generation ids) above the body. Import strips front matter: `title` becomes the title, `notes`
 * the story notes, any other keys are kept as lines in the notes so nothing is silently lost.
 * Strings are written as JSON strings, which are valid YAML double-quoted scalars.
 */
export interface AiPassageExport {
  text: string;
  action: string;
  generationIds: string[];
}

export interface MarkdownExport {
  title: string;
  createdAt: number;
  updatedAt: number;
  words: number;
  notes: string;
  body: string;
  aiPassages: AiPassageExport[];
}

export interface ImportedText {
  title: string | null;
  notes: string;
  body: string;
  aiPassages: AiPassageExport[];
}

const q = (text: string) => JSON.stringify(text);

export function toMarkdown(doc: MarkdownExport): string {
  const lines = ['---', `title: ${q(doc.title || 'Untitled')}`, `created: ${new Date(doc.createdAt).toISOString()}`, `updated: ${new Date(doc.updatedAt).toISOString()}`, `words: ${doc.words}`, 'generator: Atelier'];
  if (doc.notes.trim()) lines.push(`notes: ${q(doc.notes)}`);
  if (doc.aiPassages.length === 0) lines.push('ai_assisted: []');
  else {
    lines.push('ai_assisted:');
    for (const passage of doc.aiPassages) {
      lines.push(`  - text: ${q(passage.text)}`, `    action: ${q(passage.action)}`, `    generation_ids: [${passage.generationIds.map(q).join(', ')}]`);
    }
  }
  lines.push('---', '');
  return `${lines.join('\n')}${doc.body}${doc.body.endsWith('\n') ? '' : '\n'}`;
}

/** A YAML scalar as written by toMarkdown or by hand: "double", 'single' or plain. */
function scalar(raw: string): string {
  const value = raw.trim();
  if (value.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // not JSON-compatible: fall through to the raw text without the quotes
    }
    return value.replace(/^"|"$/g, '');
  }
  if (value.startsWith("'")) return value.slice(1, value.endsWith("'") ? -1 : undefined).replace(/''/g, "'");
  return value;
}

const GENERATED_KEYS = new Set(['created', 'updated', 'words', 'generator']);

export function parseImportedText(text: string, fileName: string): ImportedText {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const stem = fileName.replace(/\.(md|markdown|txt)$/i, '').trim() || null;
  const match = /^---\n([\s\S]*?)\n(?:---|\.\.\.)\n?/.exec(normalized);
  if (!match) return { title: stem, notes: '', body: normalized, aiPassages: [] };
  const body = normalized.slice(match[0].length).replace(/^\n/, '');
  let title: string | null = stem;
  const notes: string[] = [];
  const extra: string[] = [];
  const aiPassages: AiPassageExport[] = [];
  let inAi = false;
  for (const line of (match[1] ?? '').split('\n')) {
    const item = /^\s+-\s+text:\s*(.*)$/.exec(line);
    const action = /^\s+action:\s*(.*)$/.exec(line);
    const ids = /^\s+generation_ids:\s*\[(.*)\]\s*$/.exec(line);
    if (inAi && item) {
      aiPassages.push({ text: scalar(item[1] ?? ''), action: '', generationIds: [] });
      continue;
    }
    const last = aiPassages[aiPassages.length - 1];
    if (inAi && last && action) {
      last.action = scalar(action[1] ?? '');
      continue;
    }
    if (inAi && last && ids) {
      last.generationIds = (ids[1] ?? '').split(',').map(scalar).filter((id) => id.length > 0);
      continue;
    }
    const pair = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (pair) {
      const key = pair[1] ?? '';
      const value = pair[2] ?? '';
      inAi = key === 'ai_assisted';
      if (inAi || GENERATED_KEYS.has(key)) continue;
      if (key === 'title') title = scalar(value) || title;
      else if (key === 'notes') notes.push(scalar(value));
      else extra.push(line);
    } else if (!inAi && line.trim()) extra.push(line);
  }
  if (extra.length > 0) notes.push(extra.join('\n'));
  return { title, notes: notes.join('\n\n'), body, aiPassages };
}

/** Hands a Blob to the browser as a file download. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export function safeFileName(title: string, extension: string): string {
  const printable = Array.from(title, (char) => (char.charCodeAt(0) < 32 ? ' ' : char)).join('');
  const stem = printable.replace(/[\\/:*?"<>|]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 80) || 'Untitled';
  return `${stem}.${extension}`;
}
