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

export function systemText(notes: string | undefined): string {
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
  if (params.messages) return buildConversation(tokenizer, params.messages, budget);
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

function renderConversation(tokenizer: PromptTokenizer, messages: ChatMessage[]): string {
  if (tokenizer.hasChatTemplate) return tokenizer.applyChatTemplate(messages);
  return `${messages.map((m) => `${m.role[0]!.toUpperCase()}${m.role.slice(1)}: ${m.content}`).join('\n\n')}\n\nAssistant:`;
}

/**
 * A whole conversation through the chat template (plain "Role: text" turns without one). When it
 * does not fit, the oldest turns after the system message go first, then the start of the last.
 */
export function buildConversation(tokenizer: PromptTokenizer, messages: ChatMessage[], budget: number): BuiltPrompt {
  const chat = tokenizer.hasChatTemplate;
  const count = (list: ChatMessage[]) => tokenizer.encode(renderConversation(tokenizer, list), { add_special_tokens: !chat }).length;
  const list = [...messages];
  let trimmed = false;
  const firstDroppable = () => list.findIndex((m, i) => m.role !== 'system' && i < list.length - 1);
  while (count(list) > budget && firstDroppable() >= 0) {
    list.splice(firstDroppable(), 1);
    trimmed = true;
  }
  for (let i = 0; i < 4 && count(list) > budget && list.at(-1)!.content.length > 0; i++) {
    const last = list.at(-1)!;
    const over = count(list) - budget;
    const own = tokenizer.encode(last.content, { add_special_tokens: false }).length;
    list[list.length - 1] = { ...last, content: keepEnd(tokenizer, last.content, Math.max(0, own - over - 2)).text };
    trimmed = true;
  }
  return { text: renderConversation(tokenizer, list), trimmed, chat };
}
