import { EditorState } from '@codemirror/state';
import { EditorView, drawSelection, highlightSpecialChars, keymap, placeholder, type ViewUpdate } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { markdown } from '@codemirror/lang-markdown';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { highlightSelectionMatches, search, searchKeymap } from '@codemirror/search';
import { aiPassagesField, suggestionExtension, type AiPassage } from './suggestion';

/** The Write editor's look, from the app's design tokens. */
const editorTheme = EditorView.theme({
  '&': { height: '100%', backgroundColor: 'var(--color-surface)', color: 'var(--color-text)' },
  '.cm-scroller': { fontFamily: 'var(--font-prose)', lineHeight: 'var(--leading-prose)', overflow: 'auto' },
  '.cm-content': {
    maxWidth: 'var(--write-column, 42rem)',
    margin: '0 auto',
    padding: 'var(--space-6) var(--space-5) 40vh',
    fontSize: 'var(--text-prose)',
    caretColor: 'var(--color-text)',
  },
  '&.cm-focused': { outline: 'none' },
  '.cm-cursor': { borderLeftColor: 'var(--color-text)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--color-accent-soft)' },
  '.cm-suggestion': {
    backgroundColor: 'var(--color-suggestion-bg)',
    color: 'var(--color-suggestion-text)',
    borderBottom: '1px dashed var(--color-suggestion-text)',
    whiteSpace: 'pre-wrap',
  },
  '.cm-suggestion-replaced': { textDecoration: 'line-through', color: 'var(--color-text-muted)' },
  '.cm-ai-passage': { textDecoration: 'underline dotted var(--color-border-strong)', textUnderlineOffset: '4px' },
  '.cm-panels': { backgroundColor: 'var(--color-surface-2)', color: 'var(--color-text)', fontFamily: 'var(--font-ui)' },
  '.cm-panels input, .cm-panels button': { color: 'var(--color-text)' },
  '.cm-textfield': { backgroundColor: 'var(--color-surface)', border: '1px solid var(--color-border-strong)' },
  '.cm-placeholder': { color: 'var(--color-text-muted)' },
  '.cm-searchMatch': { backgroundColor: 'var(--color-mark-bg)', color: 'var(--color-mark-text)' },
});

export interface WriteEditorHooks {
  /** Tab on a suggestion; false lets the key do its usual work. */
  accept: () => boolean;
  /** Esc on a suggestion; false lets the key do its usual work. */
  reject: () => boolean;
  onupdate: (update: ViewUpdate) => void;
}

/** A fresh editor state (its own undo history) for one document's text and its AI-written passages. */
export function createWriteEditorState(body: string, passages: AiPassage[], hooks: WriteEditorHooks): EditorState {
  return EditorState.create({
    doc: body,
    extensions: [
      suggestionExtension({ accept: hooks.accept, reject: hooks.reject }),
      aiPassagesField.init(() => passages),
      history(),
      drawSelection(),
      highlightSpecialChars(),
      highlightSelectionMatches(),
      search({ top: true }),
      markdown(),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      EditorView.lineWrapping,
      placeholder('Start writing… then try Continue in the bar above.'),
      keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap]),
      EditorView.contentAttributes.of({ 'aria-label': 'Document text', spellcheck: 'true' }),
      editorTheme,
      EditorView.updateListener.of(hooks.onupdate),
    ],
  });
}
