import { describe, expect, it } from 'vitest';
import { toSnippetHtml } from '../../../../src/main/library/generation-search';
import { parseSnippet } from '../../../../src/renderer/src/lib/snippet';

// The FTS snippet() markers the library wraps around matches before escaping.
const open = '\u0002';
const close = '\u0003';

describe('parseSnippet', () => {
  it("shows a snippet the server escaped as the text the person typed: it's a cat & dog", () => {
    const html = toSnippetHtml(`it's a ${open}cat${close} & dog`);
    expect(parseSnippet(html)).toEqual([
      { text: "it's a ", marked: false },
      { text: 'cat', marked: true },
      { text: ' & dog', marked: false },
    ]);
  });

  it('decodes once: a prompt that itself contains an entity or a tag shows it literally', () => {
    const typed = 'write &lt; and <b>bold</b> and "quotes"';
    const parts = parseSnippet(toSnippetHtml(`${open}write${close} &lt; and <b>bold</b> and "quotes"`));
    expect(parts.map((p) => p.text).join('')).toBe(typed);
    expect(parts[0]).toEqual({ text: 'write', marked: true });
  });

  it('treats a <mark> that the person typed as text, not as a highlight', () => {
    const parts = parseSnippet(toSnippetHtml(`a <mark>fake</mark> ${open}real${close}`));
    expect(parts).toEqual([
      { text: 'a <mark>fake</mark> ', marked: false },
      { text: 'real', marked: true },
    ]);
  });
});
