export interface SnippetPart {
  text: string;
  marked: boolean;
}

/**
 * Splits a search snippet into plain and highlighted parts. Only <mark>…</mark> has meaning; every
 * other character (including any other tag) is kept as text, so rendering the parts as text nodes
 * can never inject markup.
 */
export function parseSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let marked = false;
  for (const piece of snippet.split(/(<mark>|<\/mark>)/i)) {
    const tag = piece.toLowerCase();
    if (tag === '<mark>') {
      marked = true;
    } else if (tag === '</mark>') {
      marked = false;
    } else if (piece.length > 0) {
      parts.push({ text: piece, marked });
    }
  }
  return parts;
}
