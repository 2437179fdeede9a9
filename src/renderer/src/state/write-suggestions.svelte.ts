import type { EditorView } from '@codemirror/view';
import { acceptSuggestion, currentSuggestion, rejectSuggestion, setPassageGenerations, setSuggestion } from '../lib/suggestion';
import { writer, type AiAction } from './write.svelte';

/** One generated suggestion for the current request; Regenerate adds another and keeps the earlier ones. */
interface Attempt {
  jobId: string | null;
  text: string;
}

/**
 * The AI suggestion in the Write editor: which text an action works on, the attempts Regenerate
 * collected (cycled with Alt+[ / Alt+]), and what Accept and Reject record in the library.
 */
export class AiSuggestions {
  attempts = $state<Attempt[]>([]);
  shown = $state(0);
  /** Whether a suggestion is on screen (set by the editor on every update). */
  present = $state(false);
  #lastRequest: { action: AiAction; prompt: string } | null = null;
  #view: () => EditorView | undefined;

  constructor(view: () => EditorView | undefined) {
    this.#view = view;
  }

  /** Forgets the attempts (a different document, or a restored version, is in the editor). */
  reset(): void {
    writer.detachAi();
    this.attempts = [];
    this.shown = 0;
    this.present = false;
  }

  /** Keeps the text of the alternative on screen, so cycling away and back shows it again. */
  #storeShownText(): void {
    const view = this.#view();
    const suggestion = view ? currentSuggestion(view) : null;
    const attempt = this.attempts[this.shown];
    if (suggestion && attempt) attempt.text = suggestion.text;
  }

  accept = (): boolean => {
    const view = this.#view();
    if (!view || !currentSuggestion(view)) return false;
    const action = writer.action ?? this.#lastRequest?.action ?? 'continue';
    this.#storeShownText();
    const chosen = this.attempts[this.shown];
    const others = this.attempts.filter((_, index) => index !== this.shown);
    this.attempts = [];
    this.shown = 0;
    writer.detachAi();
    const passageId = crypto.randomUUID();
    acceptSuggestion(view, { id: passageId, action, generationIds: [] });
    view.focus();
    void this.#afterAccept(action, chosen, others, passageId);
    return true;
  };

  async #afterAccept(action: AiAction, chosen: Attempt | undefined, others: Attempt[], passageId: string): Promise<void> {
    void writer.snapshot(`Accepted AI: ${action}`);
    for (const other of others) if (other.jobId) void writer.recordOutcome(other.jobId, 'rejected');
    if (!chosen?.jobId) return;
    const ids = await writer.recordOutcome(chosen.jobId, 'accepted');
    if (ids.length > 0) this.#view()?.dispatch({ effects: setPassageGenerations.of({ id: passageId, generationIds: ids }) });
  }

  reject = (): boolean => {
    const view = this.#view();
    if (!view || !currentSuggestion(view)) return false;
    for (const attempt of this.attempts) if (attempt.jobId) void writer.recordOutcome(attempt.jobId, 'rejected');
    this.attempts = [];
    this.shown = 0;
    writer.detachAi();
    rejectSuggestion(view);
    view.focus();
    return true;
  };

  showAlternative(delta: number): void {
    const view = this.#view();
    if (!view || writer.streaming || this.attempts.length < 2) return;
    const suggestion = currentSuggestion(view);
    if (!suggestion) return;
    this.#storeShownText();
    this.shown = (this.shown + delta + this.attempts.length) % this.attempts.length;
    view.dispatch({ effects: setSuggestion.of({ ...suggestion, text: this.attempts[this.shown]?.text ?? '' }) });
  }

  /** The text an action works on and where its suggestion goes, or why there is none. */
  #requestFor(view: EditorView, action: AiAction): { from: number; to: number; prompt: string } | string {
    const { state } = view;
    const selection = state.selection.main;
    const selected = state.sliceDoc(selection.from, selection.to);
    switch (action) {
      case 'continue':
        return { from: selection.head, to: selection.head, prompt: state.sliceDoc(0, selection.head) };
      case 'rewrite':
      case 'shorten':
      case 'expand': {
        if (!selection.empty) return { from: selection.from, to: selection.to, prompt: selected };
        const line = state.doc.lineAt(selection.head);
        if (line.text.trim().length === 0) return 'Select the text to work on, or put the cursor in a paragraph.';
        return { from: line.from, to: line.to, prompt: line.text };
      }
      case 'summarize':
        return { from: selection.to, to: selection.to, prompt: selection.empty ? state.doc.toString() : selected };
      case 'brainstorm':
        return { from: selection.to, to: selection.to, prompt: selection.empty ? state.sliceDoc(0, selection.head) : selected };
    }
  }

  async #startAttempt(action: AiAction, prompt: string, from: number, to: number): Promise<void> {
    const view = this.#view();
    if (!view) return;
    this.attempts.push({ jobId: null, text: '' });
    this.shown = this.attempts.length - 1;
    view.dispatch({ effects: setSuggestion.of({ from, to, text: '' }) });
    // Keep focus in the editor so Tab / Esc act on the suggestion straight away.
    view.focus();
    const started = await writer.startAi(action, prompt);
    const attempt = this.attempts[this.shown];
    if (started && attempt) attempt.jobId = writer.jobId;
    if (!started) {
      this.attempts.pop();
      this.shown = Math.max(0, this.attempts.length - 1);
      const previous = this.attempts[this.shown];
      view.dispatch({ effects: setSuggestion.of(previous ? { from, to, text: previous.text } : null) });
    }
  }

  async run(action: AiAction): Promise<void> {
    const view = this.#view();
    if (!view) return;
    if (currentSuggestion(view)) this.reject();
    const request = this.#requestFor(view, action);
    if (typeof request === 'string') {
      writer.aiError = request;
      return;
    }
    this.#lastRequest = { action, prompt: request.prompt };
    this.attempts = [];
    await this.#startAttempt(action, request.prompt, request.from, request.to);
  }

  async regenerate(): Promise<void> {
    const view = this.#view();
    const request = this.#lastRequest;
    if (!view || !request) return;
    const suggestion = currentSuggestion(view);
    if (!suggestion) return;
    this.#storeShownText();
    writer.detachAi();
    await this.#startAttempt(request.action, request.prompt, suggestion.from, suggestion.to);
  }
}
