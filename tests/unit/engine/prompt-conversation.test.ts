import { describe, expect, it } from 'vitest';
import { buildConversation, buildPrompt, type ChatMessage, type PromptTokenizer } from '../../../src/engine/text/prompt';
import { TextParams } from '../../../src/shared/params';

/** One token per space-separated word; the "template" wraps each turn in <role>…</role>. */
function wordTokenizer(hasChatTemplate: boolean): PromptTokenizer {
  return {
    encode: (text) => text.split(/\s+/).filter(Boolean).map((_, i) => i),
    decode: () => {
      throw new Error('not used by these tests');
    },
    hasChatTemplate,
    applyChatTemplate: (messages) => `${messages.map((m) => `<${m.role}> ${m.content} </${m.role}>`).join(' ')} <assistant>`,
  };
}

const words = (n: number, w: string) => Array.from({ length: n }, () => w).join(' ');

describe('a conversation as the prompt (chat completions)', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: words(20, 'old') },
    { role: 'assistant', content: words(20, 'reply') },
    { role: 'user', content: 'What now?' },
  ];

  it('renders the whole conversation through the chat template when it fits', () => {
    const built = buildConversation(wordTokenizer(true), messages, 1000);
    expect(built).toEqual({ text: `<system> Be brief. </system> <user> ${words(20, 'old')} </user> <assistant> ${words(20, 'reply')} </assistant> <user> What now? </user> <assistant>`, trimmed: false, chat: true });
  });

  it('drops the oldest turns after the system message first, keeping the system message and the last turn', () => {
    const built = buildConversation(wordTokenizer(true), messages, 40);
    expect(built.trimmed).toBe(true);
    expect(built.text).toBe(`<system> Be brief. </system> <assistant> ${words(20, 'reply')} </assistant> <user> What now? </user> <assistant>`);
    expect(buildConversation(wordTokenizer(true), messages, 15).text).toBe('<system> Be brief. </system> <user> What now? </user> <assistant>');
  });

  it('uses plain "Role: text" turns for a model without a chat template', () => {
    expect(buildConversation(wordTokenizer(false), [{ role: 'user', content: 'Hi' }], 100)).toEqual({ text: 'User: Hi\n\nAssistant:', trimmed: false, chat: false });
  });

  it('is what buildPrompt uses when the params carry messages', () => {
    const params = TextParams.parse({ model: 'm', prompt: 'ignored', messages: [{ role: 'user', content: 'Hi' }] });
    expect(buildPrompt(wordTokenizer(true), params, 100).text).toBe('<user> Hi </user> <assistant>');
  });
});
