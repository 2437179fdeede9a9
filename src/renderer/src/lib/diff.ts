/**
 * A word-level diff (longest common subsequence over word and whitespace tokens) for comparing a
 * saved version with the current text. Common prefix and suffix are stripped first, so the usual
 * case — a few edits in a long document — leaves only a small middle for the quadratic table.
 */
export type DiffKind = 'equal' | 'insert' | 'delete';
export interface DiffPart {
  kind: DiffKind;
  text: string;
}

/** Above this many table cells the middle is shown as one deletion plus one insertion. */
const MAX_CELLS = 4_000_000;

export function tokenize(text: string): string[] {
  return text.match(/\s+|[^\s]+/g) ?? [];
}

export function diffWords(before: string, after: string): DiffPart[] {
  const a = tokenize(before);
  const b = tokenize(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const parts: DiffPart[] = [];
  const push = (kind: DiffKind, text: string): void => {
    if (text.length === 0) return;
    const last = parts[parts.length - 1];
    if (last && last.kind === kind) last.text += text;
    else parts.push({ kind, text });
  };
  push('equal', a.slice(0, start).join(''));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if (n * m > MAX_CELLS) {
    push('delete', midA.join(''));
    push('insert', midB.join(''));
  } else {
    // lcs[i * (m + 1) + j] = LCS length of midA[i..] and midB[j..]
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * width + j] = midA[i] === midB[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (midA[i] === midB[j]) {
        push('equal', midA[i]!);
        i++;
        j++;
      } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) {
        push('delete', midA[i]!);
        i++;
      } else {
        push('insert', midB[j]!);
        j++;
      }
    }
    while (i < n) push('delete', midA[i++]!);
    while (j < m) push('insert', midB[j++]!);
  }
  push('equal', a.slice(endA).join(''));
  return parts;
}

export function diffStats(parts: DiffPart[]): { inserted: number; deleted: number } {
  const words = (text: string) => (text.match(/[^\s]+/g) ?? []).length;
  let inserted = 0;
  let deleted = 0;
  for (const part of parts) {
    if (part.kind === 'insert') inserted += words(part.text);
    else if (part.kind === 'delete') deleted += words(part.text);
  }
  return { inserted, deleted };
}
