import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEndpoint, OpenAiClient } from '../../../src/shared/openai-client';
import { SseParser } from '../../../src/shared/sse';

/**
 * SSE transcripts in the shapes vLLM, Ollama and llama.cpp's server send (written from their
 * stream formats: role-only first chunk, empty finish chunk, usage chunk after the choices,
 * keep-alive comments, CRLF line ends, an error event mid-stream), replayed in chunks of every
 * size from 1 byte, so lines, CRLF pairs and UTF-8 characters are split everywhere.
 */
const TRANSCRIPTS = path.join(__dirname, 'transcripts');
const SENTENCE = 'Once upon a time the keeper found a café map 🚀.';

function transcript(name: string): Buffer {
  return readFileSync(path.join(TRANSCRIPTS, name));
}

interface Recorded {
  url: string;
  init: RequestInit;
}

/** A fetch that answers every call with the bytes, `chunk` bytes at a time. */
function replay(bytes: Buffer, chunk: number, calls: Recorded[] = []): typeof fetch {
  return async (input, init) => {
    calls.push({ url: String(input), init: init ?? {} });
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + chunk)));
        offset += chunk;
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
}

const CHUNK_SIZES = [1, 2, 3, 7, 64, 100_000];

describe('the OpenAI-compatible client on recorded streams', () => {
  for (const size of CHUNK_SIZES) {
    it(`reads a vLLM chat stream split every ${size} byte(s): text, finish reason and the usage chunk`, async () => {
      const pieces: string[] = [];
      const client = new OpenAiClient({ baseUrl: 'https://gpu.example.com/v1', fetch: replay(transcript('vllm-chat.sse'), size) });
      const result = await client.streamChat({ model: 'Qwen/Qwen2.5-0.5B-Instruct', messages: [{ role: 'user', content: 'Hi' }] }, { onText: (t) => pieces.push(t) });
      expect(result).toEqual({ text: SENTENCE, finishReason: 'stop', usage: { promptTokens: 31, completionTokens: 12 } });
      expect(pieces.join('')).toBe(SENTENCE);
    });
  }

  it('reads an Ollama chat stream with CRLF line ends split every 5 bytes', async () => {
    const client = new OpenAiClient({ baseUrl: 'http://127.0.0.1:11434/v1', allowInsecureHttp: true, fetch: replay(transcript('ollama-chat.sse'), 5) });
    const result = await client.streamChat({ model: 'llama3.2:1b', messages: [{ role: 'user', content: 'Hi' }] });
    expect(result).toEqual({ text: SENTENCE, finishReason: 'stop', usage: { promptTokens: 28, completionTokens: 12 } });
  });

  it('reads a llama.cpp server completion stream with a keep-alive comment', async () => {
    const client = new OpenAiClient({ baseUrl: 'http://192.168.1.20:8080', allowInsecureHttp: true, fetch: replay(transcript('llamacpp-completion.sse'), 11) });
    const result = await client.streamCompletion({ model: 'tiny', prompt: 'Once' });
    expect(result).toEqual({ text: SENTENCE, finishReason: 'length', usage: { promptTokens: 5, completionTokens: 12 } });
  });

  it('ends with the server\'s error when it reports one mid-stream, after passing on the text before it', async () => {
    const pieces: string[] = [];
    const client = new OpenAiClient({ baseUrl: 'https://gpu.example.com', fetch: replay(transcript('vllm-error-midstream.sse'), 9) });
    await expect(client.streamChat({ model: 'q', messages: [{ role: 'user', content: 'Hi' }] }, { onText: (t) => pieces.push(t) })).rejects.toThrow(/error during generation: This model's maximum context length is 32768 tokens/);
    expect(pieces.join('')).toBe('Once upon a');
  });

  it('says the stream broke off when it ends without a finish reason or [DONE]', async () => {
    const cut = transcript('vllm-chat.sse').subarray(0, 900);
    const client = new OpenAiClient({ baseUrl: 'https://gpu.example.com', fetch: replay(cut, 50) });
    await expect(client.streamChat({ model: 'q', messages: [] })).rejects.toThrow(/ended before the generation finished/);
  });

  it('sends the API key as a bearer token to the base URL only, refuses redirects, and asks for the usage chunk', async () => {
    const calls: Recorded[] = [];
    const client = new OpenAiClient({ baseUrl: 'https://gpu.example.com/v1/', apiKey: 'sk-test', fetch: replay(transcript('vllm-chat.sse'), 1000, calls) });
    await client.streamChat({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], maxTokens: 12, temperature: 0.7, seed: 3 });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('https://gpu.example.com/v1/chat/completions');
    expect(calls[0]!.init.redirect).toBe('error');
    expect((calls[0]!.init.headers as Record<string, string>)['authorization']).toBe('Bearer sk-test');
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ model: 'm', max_tokens: 12, temperature: 0.7, seed: 3, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } });
  });

  it('turns HTTP errors into errors a person can act on', async () => {
    const client = new OpenAiClient({
      baseUrl: 'https://gpu.example.com',
      fetch: async () => new Response(JSON.stringify({ error: { message: 'The model `nope` does not exist.', type: 'NotFoundError', code: 404 } }), { status: 404 }),
    });
    await expect(client.streamChat({ model: 'nope', messages: [] })).rejects.toMatchObject({ code: 'MODEL_NOT_INSTALLED', message: expect.stringMatching(/404: The model `nope` does not exist/) });
  });
});

describe('which endpoints the client may use', () => {
  it('allows https anywhere, plain http only to loopback or private addresses after a confirmation, never to public ones', () => {
    expect(checkEndpoint('https://api.example.com/v1')).toEqual({ ok: true });
    expect(checkEndpoint('http://api.example.com/v1')).toMatchObject({ ok: false, needsConfirmation: false });
    expect(checkEndpoint('http://8.8.8.8:8000')).toMatchObject({ ok: false, needsConfirmation: false });
    for (const local of ['http://127.0.0.1:8080', 'http://localhost:11434/v1', 'http://[::1]:1234', 'http://192.168.1.5:8000', 'http://10.0.0.2', 'http://172.20.1.1', 'http://gpu-box.local:8000']) {
      expect(checkEndpoint(local)).toMatchObject({ ok: false, needsConfirmation: true });
      expect(checkEndpoint(local, true)).toEqual({ ok: true });
    }
    expect(checkEndpoint('http://172.32.0.1')).toMatchObject({ ok: false, needsConfirmation: false });
    expect(checkEndpoint('https://user:key@api.example.com')).toMatchObject({ ok: false });
    expect(() => new OpenAiClient({ baseUrl: 'http://127.0.0.1:8080' })).toThrow(/confirm/);
  });
});

describe('the SSE parser', () => {
  it('joins multi-line data, keeps event names and ids, skips comments and drops an event cut off by the end of the stream', () => {
    const parser = new SseParser();
    const events = [...parser.push(': hi\nevent: delta\nid: 7\ndata: a\ndata: b\n\ndata: c\r\n\r'), ...parser.push('\ndata: {"half'), ...parser.end()];
    expect(events).toEqual([
      { event: 'delta', data: 'a\nb', id: '7' },
      { event: 'message', data: 'c', id: '7' },
    ]);
  });
});
