import { randomUUID, timingSafeEqual } from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { EngineMessage, EngineRequestBody, RunResult } from '../../shared/engine-protocol';
import { StudioError, toErrorShape } from '../../shared/errors';
import { TextParams } from '../../shared/params';

/**
 * Atelier's installed text models on a loopback OpenAI-compatible endpoint (off unless started:
 * `atelier serve --openai`), so other tools can use them: GET /v1/models, POST /v1/completions
 * and /v1/chat/completions, streamed over SSE or whole. Runs go straight to the engine (they are
 * not library jobs: another tool's requests do not fill the library) and queue behind its work.
 * A client closing its connection cancels the run.
 *
 * Only loopback, and only for callers that are not web pages: the Host header must name the
 * loopback address (no DNS rebinding) and the body must be JSON (a page cannot send that without
 * a CORS preflight, which is never answered). An API key can be required as well.
 */

type StreamMessage = Extract<EngineMessage, { type: 'progress' | 'token' | 'preview' | 'log' }>;

export interface OpenAiServerDeps {
  /** Installed text models: id (what clients name) → the path the engine runs. */
  textModels(): { id: string; path: string; installedAt: number }[];
  engine: { request<T>(body: EngineRequestBody): Promise<T> };
  onEngineStream(listener: (message: StreamMessage) => void): () => void;
  stagingDir: string;
}

export interface OpenAiServerOptions {
  port?: number;
  /** When set, requests must send `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  log?(message: string): void;
}

export interface OpenAiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const Stop = z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).max(8)]);
const Sampling = {
  model: z.string().min(1).max(500),
  max_tokens: z.number().int().min(1).max(8192).nullish(),
  max_completion_tokens: z.number().int().min(1).max(8192).nullish(),
  temperature: z.number().min(0).max(5).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).max(1000).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repetition_penalty: z.number().min(1).max(3).nullish(),
  repeat_penalty: z.number().min(1).max(3).nullish(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).nullish(),
  stop: Stop.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
};
const CompletionRequest = z.object({ ...Sampling, prompt: z.string().max(200_000) });
const ChatRequest = z.object({
  ...Sampling,
  messages: z
    .array(z.object({ role: z.enum(['system', 'user', 'assistant', 'developer']), content: z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }))]) }))
    .min(1)
    .max(500),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage, limit = 4 * 1024 * 1024): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, 'invalid_request_error', 'The request body is larger than 4 MB.'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(400, 'invalid_request_error', 'The request body is not valid JSON.'));
      }
    });
    req.on('error', reject);
  });
}

function finishReason(result: RunResult, maxTokens: number): 'stop' | 'length' {
  const reason = result.meta?.['stopReason'];
  if (reason === 'maxTokens') return 'length';
  if (typeof reason === 'string') return 'stop';
  return (result.tokens ?? 0) >= maxTokens ? 'length' : 'stop';
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startOpenAiServer(deps: OpenAiServerDeps, options: OpenAiServerOptions = {}): Promise<OpenAiServer> {
  const host = '127.0.0.1';
  let port = 0;

  const toParams = (body: z.infer<typeof CompletionRequest> | z.infer<typeof ChatRequest>): { modelPath: string; params: TextParams } => {
    const model = deps.textModels().find((m) => m.id === body.model);
    if (!model) throw new HttpError(404, 'invalid_request_error', `The model \`${body.model}\` is not installed in Atelier. GET /v1/models lists the installed text models.`);
    const stop = body.stop === undefined || body.stop === null ? undefined : Array.isArray(body.stop) ? body.stop : [body.stop];
    const common = {
      model: model.id,
      maxNewTokens: body.max_completion_tokens ?? body.max_tokens ?? 256,
      // OpenAI's defaults: temperature 1, top_p 1, no top-k, no repetition penalty.
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      topK: body.top_k !== undefined && body.top_k !== null && body.top_k > 0 ? body.top_k : 0,
      repetitionPenalty: body.repetition_penalty ?? body.repeat_penalty ?? 1,
      ...(body.min_p !== undefined && body.min_p !== null ? { minP: body.min_p } : {}),
      ...(body.seed !== undefined && body.seed !== null ? { seed: body.seed } : {}),
      ...(stop ? { stop } : {}),
    };
    if ('messages' in body) {
      const messages = body.messages.map((m) => ({
        role: m.role === 'developer' ? ('system' as const) : m.role,
        content: typeof m.content === 'string' ? m.content : m.content.map((part) => part.text).join(''),
      }));
      return { modelPath: model.path, params: TextParams.parse({ ...common, prompt: '', action: 'instruct', messages }) };
    }
    return { modelPath: model.path, params: TextParams.parse({ ...common, prompt: body.prompt, action: 'continue' }) };
  };

  const complete = async (req: http.IncomingMessage, res: http.ServerResponse, chat: boolean): Promise<void> => {
    const raw = await readBody(req);
    const parsed = (chat ? ChatRequest : CompletionRequest).safeParse(raw);
    if (!parsed.success) throw new HttpError(400, 'invalid_request_error', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const body = parsed.data;
    const { modelPath, params } = toParams(body);
    const jobId = `openai-${randomUUID()}`;
    const outDir = path.join(deps.stagingDir, jobId);
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${jobId.slice(7)}`;
    const created = Math.floor(Date.now() / 1000);
    const object = chat ? 'chat.completion' : 'text_completion';
    const stream = body.stream === true;
    let finished = false;
    const onClose = () => {
      if (!finished) void deps.engine.request({ type: 'cancel', jobId }).catch(() => undefined);
    };
    res.on('close', onClose);

    const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model: body.model, choices: [{ index: 0, ...choice }], ...extra })}\n\n`;
    let off = () => {};
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
      if (chat) res.write(chunk({ delta: { role: 'assistant', content: '' }, finish_reason: null }));
      off = deps.onEngineStream((message) => {
        if (message.type !== 'token' || message.jobId !== jobId || res.writableEnded || res.destroyed) return;
        res.write(chat ? chunk({ delta: { content: message.text }, finish_reason: null }) : chunk({ text: message.text, finish_reason: null }));
      });
    }
    try {
      const result = await deps.engine.request<RunResult>({ type: 'run', jobId, modelDir: modelPath, outDir, run: { kind: 'text', params } });
      finished = true;
      const reason = finishReason(result, params.maxNewTokens);
      const promptTokens = typeof result.meta?.['promptTokens'] === 'number' ? result.meta['promptTokens'] : 0;
      const usage = { prompt_tokens: promptTokens, completion_tokens: result.tokens ?? 0, total_tokens: promptTokens + (result.tokens ?? 0) };
      if (stream && res.destroyed) return;
      if (stream) {
        res.write(chat ? chunk({ delta: {}, finish_reason: reason }) : chunk({ text: '', finish_reason: reason }));
        if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model: body.model, choices: [], usage })}\n\n`);
        res.end('data: [DONE]\n\n');
      } else {
        const choice = chat ? { index: 0, message: { role: 'assistant', content: result.text ?? '' }, finish_reason: reason } : { index: 0, text: result.text ?? '', finish_reason: reason };
        sendJson(res, 200, { id, object, created, model: body.model, choices: [choice], usage });
      }
    } catch (error) {
      finished = true;
      const shape = toErrorShape(error);
      if (!stream) throw error;
      // The stream has begun: the error travels as an event, as vLLM and llama.cpp's server send it.
      if (!res.writableEnded && !res.destroyed) res.end(`data: ${JSON.stringify({ error: { message: shape.message, type: 'server_error', code: shape.code } })}\n\ndata: [DONE]\n\n`);
    } finally {
      off();
      res.off('close', onClose);
      await rm(outDir, { recursive: true, force: true }).catch(() => undefined);
    }
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const hostHeader = req.headers.host ?? '';
      if (hostHeader !== `${host}:${port}` && hostHeader !== `localhost:${port}`) throw new HttpError(403, 'permission_error', 'This endpoint answers only requests addressed to 127.0.0.1 or localhost.');
      if (options.apiKey) {
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), options.apiKey)) throw new HttpError(401, 'authentication_error', 'Send the API key Atelier printed as `Authorization: Bearer <key>`.');
      }
      const url = new URL(req.url ?? '/', `http://${host}`);
      const route = url.pathname.replace(/\/+$/, '');
      if (req.method === 'GET' && route === '/v1/models') {
        sendJson(res, 200, { object: 'list', data: deps.textModels().map((m) => ({ id: m.id, object: 'model', created: Math.floor(m.installedAt / 1000), owned_by: 'atelier' })) });
        return;
      }
      if (req.method === 'POST' && (route === '/v1/chat/completions' || route === '/v1/completions')) {
        if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) throw new HttpError(415, 'invalid_request_error', 'Send the request body as application/json.');
        await complete(req, res, route === '/v1/chat/completions');
        return;
      }
      throw new HttpError(404, 'invalid_request_error', `${req.method} ${url.pathname} is not an endpoint here: use GET /v1/models, POST /v1/completions or POST /v1/chat/completions.`);
    })().catch((error: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, { error: { message: error.message, type: error.type, code: error.status } });
        return;
      }
      const shape = toErrorShape(error);
      const status = shape.code === 'CANCELLED' ? 499 : shape.code === 'MODEL_INVALID' || shape.code === 'INVALID_INPUT' ? 400 : shape.code === 'MODEL_NOT_INSTALLED' ? 404 : 500;
      if (!(error instanceof StudioError)) options.log?.(`openai endpoint: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendJson(res, status, { error: { message: shape.message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code: shape.code } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/v1`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
