import type { TextParams } from '../../shared/params';

/**
 * Turns the writing-tab parameters into what the model reads. 'continue' is plain continuation of
 * the text before the cursor; every other action is an instruction, given to the model through
 * its chat template when the tokenizer has one and as a plain-text prompt otherwise.
 */

export interface PromptTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  hasChatTemplate: boolean;
  /** Renders messages through the chat template (with the generation prompt appended). */
  applyChatTemplate(messages: ChatMessage[]): string;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const INSTRUCTIONS: Record<Exclude<TextParams['action'], 'continue'>, string> = {
  rewrite: 'Rewrite the following text so it reads better. Keep its meaning, voice and language. Reply with the rewritten text only.',
  shorten: 'Make the following text shorter while keeping what matters. Reply with the shortened text only.',
  expand: 'Expand the following text with more detail, in the same voice and language. Reply with the expanded text only.',
  summarize: 'Summarize the following text in a few sentences, in the same language.',
  brainstorm: 'Brainstorm ideas for where the following text could go next. Reply with a short list.',
  instruct: 'Follow the instruction about the text below.',
};

export function instructionFor(params: Pick<TextParams, 'action' | 'instruction'>): string {
  if (params.action === 'continue') return '';
  if (params.action === 'instruct') return params.instruction?.trim() || INSTRUCTIONS.instruct;
  const base = INSTRUCTIONS[params.action];
  return params.instruction?.trim() ? `${base}\n${params.instruction.trim()}` : base;
}

function systemText(notes: string | undefined): string {
  const lead = 'You are a careful writing assistant inside a writer\'s editor.';
  return notes?.trim() ? `${lead}\nStory notes from the writer (characters, setting, style):\n${notes.trim()}` : lead;
}

/** The end of `text` that fits in `budget` tokens (the part nearest the cursor matters most). */
export function keepEnd(tokenizer: PromptTokenizer, text: string, budget: number): { text: string; trimmed: boolean } {
  if (budget <= 0) return { text: '', trimmed: text.length > 0 };
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  if (ids.length <= budget) return { text, trimmed: false };
  return { text: tokenizer.decode(ids.slice(ids.length - budget), { skip_special_tokens: false }), trimmed: true };
}

function render(tokenizer: PromptTokenizer, params: TextParams, body: string): string {
  if (params.action === 'continue') {
    return params.notes?.trim() ? `${params.notes.trim()}\n\n${body}` : body;
  }
  const instruction = instructionFor(params);
  if (tokenizer.hasChatTemplate) {
    return tokenizer.applyChatTemplate([
      { role: 'system', content: systemText(params.notes) },
      { role: 'user', content: `${instruction}\n\n${body}` },
    ]);
  }
  const notes = params.notes?.trim() ? `Story notes:\n${params.notes.trim()}\n\n` : '';
  return `${notes}Instruction: ${instruction}\n\nText:\n${body}\n\nResponse:\n`;
}

export interface BuiltPrompt {
  text: string;
  /** Whether the start of the user's text was dropped to fit the context. */
  trimmed: boolean;
  /** Whether the chat template was used. */
  chat: boolean;
}

/**
 * Builds the prompt so that the whole of it, counted in tokens, fits `budget`: the fixed parts
 * (template, instruction, notes) are measured first and the user's text gets the rest, trimmed
 * from its start.
 */
export function buildPrompt(tokenizer: PromptTokenizer, params: TextParams, budget: number): BuiltPrompt {
  const chat = params.action !== 'continue' && tokenizer.hasChatTemplate;
  // A rendered chat template already carries its special tokens (BOS and all).
  const special = !chat;
  const overhead = tokenizer.encode(render(tokenizer, params, ''), { add_special_tokens: special }).length;
  let room = Math.max(0, budget - overhead);
  let { text: body, trimmed } = keepEnd(tokenizer, params.prompt, room);
  // Token counts are not additive across a join; shave until the whole fits.
  for (let i = 0; i < 4; i++) {
    const full = render(tokenizer, params, body);
    const count = tokenizer.encode(full, { add_special_tokens: special }).length;
    if (count <= budget || body.length === 0) return { text: full, trimmed, chat };
    room = Math.max(0, room - (count - budget) - 2);
    ({ text: body } = keepEnd(tokenizer, body, room));
    trimmed = true;
  }
  return { text: render(tokenizer, params, body), trimmed, chat };
}
