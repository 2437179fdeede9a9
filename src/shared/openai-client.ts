import { StudioError, type ErrorCode } from './errors';
import { SseParser } from './sse';

/**
 * A client for OpenAI-compatible text servers: vLLM, llama.cpp's server, Ollama, LM Studio — and
 * Atelier's own endpoint. Streaming over SSE; cancel by aborting (the stream is closed, which is
 * how those servers learn to stop); an error sent mid-stream ends the call with that error.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface SamplingRequest {
  model: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

export interface StreamResult {
  text: string;
  /** 'stop' | 'length' | … as the server said; 'cancelled' when the caller aborted. */
  finishReason: string | null;
  usage?: { promptTokens: number; completionTokens: number };
}

export interface StreamOptions {
  signal?: AbortSignal;
  onText?(text: string): void;
}

export interface OpenAiClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** Plain http to a loopback or private address, which the person confirmed. */
  allowInsecureHttp?: boolean;
  fetch?: typeof fetch;
}

export type EndpointVerdict = { ok: true } | { ok: false; needsConfirmation: boolean; reason: string };

function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  if (/^fe80:|^f[cd][0-9a-f]{2}:/.test(h)) return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (!v4) return h.endsWith('.local') || h.endsWith('.lan') || h.endsWith('.internal') || !h.includes('.');
  const [a, b] = [Number(v4[1]), Number(v4[2])];
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
}

/**
 * Whether Atelier may talk to a base URL: https anywhere; plain http only to loopback or private
 * addresses, and only after the person confirmed (what is sent, prompts and the API key, is
 * readable by anyone on the path).
 */
export function checkEndpoint(baseUrl: string, confirmedInsecure = false): EndpointVerdict {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return { ok: false, needsConfirmation: false, reason: `"${baseUrl}" is not a URL; write it like https://host:port/v1 or http://127.0.0.1:8080/v1` };
  }
  if (url.username || url.password) return { ok: false, needsConfirmation: false, reason: 'put the API key in its own field, not in the URL' };
  if (url.protocol === 'https:') return { ok: true };
  if (url.protocol !== 'http:') return { ok: false, needsConfirmation: false, reason: `${url.protocol} is not http or https` };
  if (!isPrivateHost(url.hostname)) return { ok: false, needsConfirmation: false, reason: `${url.hostname} is a public address: use https, since plain http would send your text and API key readable to the network` };
  if (!confirmedInsecure) return { ok: false, needsConfirmation: true, reason: `${url.host} is reached over plain http: confirm that this local or private server may be used without encryption` };
  return { ok: true };
}

interface ErrorBody {
  error?: { message?: unknown; code?: unknown; type?: unknown } | string;
  message?: unknown;
}

function errorFrom(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const b = body as ErrorBody;
    if (typeof b.error === 'string') return b.error;
    if (b.error && typeof b.error.message === 'string') return b.error.message;
    if (typeof b.message === 'string') return b.message;
  }
  return fallback;
}

function codeFor(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (status === 404) return 'MODEL_NOT_INSTALLED';
  if (status === 400 || status === 422) return 'INVALID_INPUT';
  return 'NETWORK';
}

export class OpenAiClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: OpenAiClientOptions) {
    const verdict = checkEndpoint(options.baseUrl, options.allowInsecureHttp === true);
    if (!verdict.ok) throw new StudioError(verdict.needsConfirmation ? 'FORBIDDEN' : 'INVALID_INPUT', `Cannot use ${options.baseUrl}: ${verdict.reason}.`);
    // Servers are given as http://host:port or http://host:port/v1; calls add /v1/… once.
    this.base = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  private headers(json: boolean): Record<string, string> {
    return {
      ...(json ? { 'content-type': 'application/json' } : {}),
      accept: json ? 'text/event-stream, application/json' : 'application/json',
      // Sent only to this base URL: redirects are refused below, so the key never follows one.
      ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
    };
  }

  private async call(pathname: string, init: { method: 'GET' | 'POST'; body?: unknown; signal?: AbortSignal }): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${pathname}`, {
        method: init.method,
        headers: this.headers(init.body !== undefined),
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        redirect: 'error',
        ...(init.signal ? { signal: init.signal } : {}),
      });
    } catch (error) {
      if (init.signal?.aborted) throw new StudioError('CANCELLED', 'The request was cancelled.');
      throw new StudioError('NETWORK', `Could not reach ${this.base}: ${error instanceof Error ? error.message : String(error)}. Check that the server is running and the address is right.`);
    }
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => null);
      throw new StudioError(codeFor(response.status), `${this.base} answered ${response.status}: ${errorFrom(body, response.statusText || 'no reason given')}`);
    }
    return response;
  }

  /** The model ids the server offers (GET /v1/models). */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const response = await this.call('/v1/models', { method: 'GET', ...(signal ? { signal } : {}) });
    const body = (await response.json()) as { data?: { id?: unknown }[] };
    return (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
  }

  /** Streams a chat completion (POST /v1/chat/completions, stream: true). */
  streamChat(request: SamplingRequest & { messages: ChatMessage[] }, options: StreamOptions = {}): Promise<StreamResult> {
    const { messages, ...rest } = request;
    return this.stream('/v1/chat/completions', { ...body(rest), messages }, (choice) => {
      const delta = (choice as { delta?: { content?: unknown } }).delta;
      return typeof delta?.content === 'string' ? delta.content : '';
    }, options);
  }

  /** Streams a plain completion (POST /v1/completions, stream: true). */
  streamCompletion(request: SamplingRequest & { prompt: string }, options: StreamOptions = {}): Promise<StreamResult> {
    const { prompt, ...rest } = request;
    return this.stream('/v1/completions', { ...body(rest), prompt }, (choice) => {
      const text = (choice as { text?: unknown }).text;
      return typeof text === 'string' ? text : '';
    }, options);
  }

  private async stream(pathname: string, payload: Record<string, unknown>, textOf: (choice: unknown) => string, options: StreamOptions): Promise<StreamResult> {
    const response = await this.call(pathname, { method: 'POST', body: { ...payload, stream: true, stream_options: { include_usage: true } }, ...(options.signal ? { signal: options.signal } : {}) });
    let text = '';
    let finishReason: string | null = null;
    let usage: StreamResult['usage'];
    let done = false;
    const parser = new SseParser();
    const handle = (data: string): void => {
      if (done) return;
      if (data.trim() === '[DONE]') {
        done = true;
        return;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        throw new StudioError('NETWORK', `${this.base} sent a stream event that is not JSON: ${data.slice(0, 120)}`);
      }
      if (chunk && typeof chunk === 'object' && 'error' in chunk) {
        throw new StudioError('NETWORK', `${this.base} reported an error during generation: ${errorFrom(chunk, 'no reason given')}`);
      }
      const c = chunk as { choices?: unknown[]; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null };
      for (const choice of c.choices ?? []) {
        const piece = textOf(choice);
        if (piece) {
          text += piece;
          options.onText?.(piece);
        }
        const reason = (choice as { finish_reason?: unknown }).finish_reason;
        if (typeof reason === 'string') finishReason = reason;
      }
      if (c.usage && typeof c.usage.prompt_tokens === 'number' && typeof c.usage.completion_tokens === 'number') {
        usage = { promptTokens: c.usage.prompt_tokens, completionTokens: c.usage.completion_tokens };
      }
    };
    const reader = response.body?.getReader();
    if (!reader) throw new StudioError('NETWORK', `${this.base} sent no stream.`);
    try {
      for (;;) {
        let read: Awaited<ReturnType<typeof reader.read>>;
        try {
          read = await reader.read();
        } catch (error) {
          if (options.signal?.aborted) return { text, finishReason: 'cancelled', ...(usage ? { usage } : {}) };
          throw new StudioError('NETWORK', `The stream from ${this.base} broke off: ${error instanceof Error ? error.message : String(error)}.`);
        }
        if (read.done) break;
        for (const event of parser.push(read.value)) handle(event.data);
        if (done) break;
      }
      for (const event of parser.end()) handle(event.data);
    } finally {
      // Closing the stream is how the server learns to stop generating.
      await reader.cancel().catch(() => undefined);
    }
    if (!done && finishReason === null) throw new StudioError('NETWORK', `The stream from ${this.base} ended before the generation finished.`);
    return { text, finishReason, ...(usage ? { usage } : {}) };
  }
}

function body(request: SamplingRequest): Record<string, unknown> {
  return {
    model: request.model,
    ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.stop && request.stop.length > 0 ? { stop: request.stop } : {}),
  };
}
