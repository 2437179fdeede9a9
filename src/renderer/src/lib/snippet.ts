export interface SnippetPart {
  text: string;
  marked: boolean;
}

// The server sends snippets as escaped HTML (see toSnippetHtml): these are the only entities it
// writes, so they are the only ones read back. Anything else, '&nbsp;' included, stays as typed.
const HTML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** Undoes the server's escaping in one pass, so '&amp;lt;' becomes the text '&lt;', not '<'. */
function unescapeHtml(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => HTML_ENTITIES[entity] ?? entity);
}

/**
 * Splits a search snippet (escaped HTML whose only markup is <mark>…</mark>) into plain and
 * highlighted parts of plain text. Only <mark>…</mark> has meaning; every other character
 * (including any other tag) is kept as text and entities are decoded once, so rendering the parts
 * as text nodes shows exactly what the person typed and can never inject markup.
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
      parts.push({ text: unescapeHtml(piece), marked });
    }
  }
  return parts;
}
