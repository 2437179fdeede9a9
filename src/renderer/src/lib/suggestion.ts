import { Prec, StateEffect, StateField, type Extension } from '@codemirror/state';
import { Decoration, EditorView, WidgetType, keymap, type DecorationSet } from '@codemirror/view';

/**
 * A pending AI suggestion: text that is shown in the editor but is not part of the document.
 * It lives in a state field rendered as a widget (plus a strike-through mark over the range it
 * would replace), so rejecting it leaves the document byte-for-byte unchanged and accepting it is
 * one ordinary transaction, hence one undo step.
 */
export interface Suggestion {
  from: number;
  to: number;
  text: string;
}

export const setSuggestion = StateEffect.define<Suggestion | null>();
export const appendSuggestion = StateEffect.define<string>();

export const suggestionField = StateField.define<Suggestion | null>({
  create: () => null,
  update(value, tr) {
    let next = value;
    if (next && tr.docChanged) {
      const from = tr.changes.mapPos(next.from, -1);
      next = { ...next, from, to: Math.max(from, tr.changes.mapPos(next.to, 1)) };
    }
    for (const effect of tr.effects) {
      if (effect.is(setSuggestion)) next = effect.value;
      else if (effect.is(appendSuggestion) && next) next = { ...next, text: next.text + effect.value };
    }
    return next;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (value): DecorationSet => {
      if (!value) return Decoration.none;
      const ranges = [];
      if (value.to > value.from) ranges.push(Decoration.mark({ class: 'cm-suggestion-replaced' }).range(value.from, value.to));
      ranges.push(Decoration.widget({ widget: new SuggestionWidget(value.text), side: 1 }).range(value.to));
      return Decoration.set(ranges, true);
    }),
});

class SuggestionWidget extends WidgetType {
  constructor(readonly text: string) {
    super();
  }

  eq(other: SuggestionWidget): boolean {
    return other.text === this.text;
  }

  toDOM(): HTMLElement {
    const span = document.createElement('span');
    span.className = 'cm-suggestion';
    span.setAttribute('data-testid', 'suggestion');
    span.setAttribute('aria-label', 'AI suggestion (Tab to accept, Escape to reject)');
    span.textContent = this.text.length > 0 ? this.text : '…';
    return span;
  }

  ignoreEvent(): boolean {
    return false;
  }
}

export function currentSuggestion(view: EditorView): Suggestion | null {
  return view.state.field(suggestionField, false) ?? null;
}

/**
 * Makes the suggestion real text in one transaction (one undo step). With `passage`, the inserted
 * range is remembered as AI-written (see aiPassagesField).
 */
export function acceptSuggestion(view: EditorView, passage?: Omit<AiPassage, 'from' | 'to'>): boolean {
  const suggestion = currentSuggestion(view);
  if (!suggestion) return false;
  const end = suggestion.from + suggestion.text.length;
  const effects: StateEffect<unknown>[] = [setSuggestion.of(null)];
  if (passage && end > suggestion.from) effects.push(addAiPassage.of({ ...passage, from: suggestion.from, to: end }));
  view.dispatch({
    changes: { from: suggestion.from, to: suggestion.to, insert: suggestion.text },
    selection: { anchor: end },
    effects,
    userEvent: 'input.complete',
    scrollIntoView: true,
  });
  return true;
}

/** Drops the suggestion without touching the document. */
export function rejectSuggestion(view: EditorView): boolean {
  if (!currentSuggestion(view)) return false;
  view.dispatch({ effects: setSuggestion.of(null) });
  return true;
}

export function suggestionExtension(handlers: { accept: () => boolean; reject: () => boolean }): Extension {
  return [
    suggestionField,
    Prec.highest(
      keymap.of([
        { key: 'Tab', run: () => handlers.accept() },
        { key: 'Escape', run: () => handlers.reject() },
      ]),
    ),
  ];
}

/**
 * Passages of the document that came from accepted AI suggestions. The ranges are mapped through
 * every edit, so they follow the text as the writer works around (or inside) them; a passage
 * that is deleted entirely disappears.
 */
export interface AiPassage {
  /** Local id, stable while the range moves. */
  id: string;
  from: number;
  to: number;
  action: string;
  generationIds: string[];
}

export const addAiPassage = StateEffect.define<AiPassage>();
export const setAiPassages = StateEffect.define<AiPassage[]>();
/** Fills in generation ids that arrive after the accept (the job reports them when it finishes). */
export const setPassageGenerations = StateEffect.define<{ id: string; generationIds: string[] }>();

export const aiPassagesField = StateField.define<AiPassage[]>({
  create: () => [],
  update(value, tr) {
    let next = value;
    if (tr.docChanged && next.length > 0) {
      next = next
        .map((passage) => ({ ...passage, from: tr.changes.mapPos(passage.from, 1), to: tr.changes.mapPos(passage.to, -1) }))
        .filter((passage) => passage.to > passage.from);
    }
    for (const effect of tr.effects) {
      if (effect.is(setAiPassages)) next = effect.value;
      else if (effect.is(addAiPassage)) next = [...next, effect.value].sort((a, b) => a.from - b.from);
      else if (effect.is(setPassageGenerations)) {
        const { id, generationIds } = effect.value;
        next = next.map((passage) => (passage.id === id ? { ...passage, generationIds } : passage));
      }
    }
    return next;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (value): DecorationSet =>
      value.length === 0 ? Decoration.none : Decoration.set(value.map((passage) => aiPassageMark.range(passage.from, passage.to)), true),
    ),
});

const aiPassageMark = Decoration.mark({ class: 'cm-ai-passage', attributes: { title: 'Written with AI (accepted suggestion)' } });

export function aiPassages(view: EditorView): AiPassage[] {
  return view.state.field(aiPassagesField, false) ?? [];
}
