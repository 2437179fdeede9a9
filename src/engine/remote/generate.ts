import type { RunHooks, RunResult } from '../../shared/engine-protocol';
import { cancelled } from '../runtime/cancellation';
import type { ChatMessage, StreamResult } from '../../shared/openai-client';
import type { TextParams } from '../../shared/params';
import { instructionFor, systemText } from '../text/prompt';
import { writeTextOutput } from '../text/text-run';
import { readRemoteModel, remoteClient } from './descriptor';

/**
 * Text generation on an OpenAI-compatible server. 'Continue' is a plain completion of the draft;
 * the other actions (and a conversation) are chat completions, which the server renders with its
 * model's chat template. The server fits the prompt to its context. A cancel closes the stream
 * (how those servers learn to stop) and keeps the text received so far, like llama.cpp runs.
 */
export async function generateRemoteText(descriptor: string, params: TextParams, { hooks, outDir, apiKeys }: { hooks: RunHooks; outDir: string; apiKeys?: Record<string, string> }): Promise<RunResult> {
  const started = performance.now();
  if (hooks.signal.aborted) throw cancelled();
  const remote = readRemoteModel(descriptor);
  const client = remoteClient(remote, apiKeys);
  const sampling = {
    model: remote.model,
    maxTokens: params.maxNewTokens,
    temperature: params.temperature,
    ...(params.temperature > 0 ? { topP: params.topP } : {}),
    ...(params.seed !== undefined ? { seed: params.seed } : {}),
    ...(params.stop ? { stop: params.stop } : {}),
  };
  let chunks = 0;
  let firstAt = 0;
  const onText = (text: string) => {
    if (firstAt === 0) firstAt = performance.now();
    chunks++;
    if (!hooks.signal.aborted) hooks.onToken?.(text, chunks);
  };
  const options = { signal: hooks.signal, onText };
  hooks.onProgress(0, params.maxNewTokens, `Asking ${new URL(remote.baseUrl).host}`);
  let result: StreamResult;
  const chat = params.messages !== undefined || params.action !== 'continue';
  if (params.messages) {
    result = await client.streamChat({ ...sampling, messages: params.messages }, options);
  } else if (params.action === 'continue') {
    result = await client.streamCompletion({ ...sampling, prompt: params.notes?.trim() ? `${params.notes.trim()}\n\n${params.prompt}` : params.prompt }, options);
  } else {
    const messages: ChatMessage[] = [
      { role: 'system', content: systemText(params.notes) },
      { role: 'user', content: `${instructionFor(params)}\n\n${params.prompt}` },
    ];
    result = await client.streamChat({ ...sampling, messages }, options);
  }
  const finished = performance.now();
  const wasCancelled = result.finishReason === 'cancelled';
  if (wasCancelled && result.text.length === 0) throw cancelled();
  const tokens = result.usage?.completionTokens ?? chunks;
  hooks.onProgress(tokens, params.maxNewTokens);
  const decodeSeconds = firstAt ? (finished - firstAt) / 1000 : 0;
  return {
    outputs: [await writeTextOutput(outDir, result.text)],
    text: result.text,
    tokens,
    seed: params.seed ?? null,
    provider: 'remote',
    providerNote: `${remote.model} on ${remote.baseUrl}`,
    timings: {
      timeToFirstTokenMs: firstAt ? firstAt - started : finished - started,
      generateMs: finished - started,
      tokensPerSecond: tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : 0,
      totalMs: finished - started,
    },
    meta: {
      backend: 'openai-compatible',
      server: remote.baseUrl,
      remoteModel: remote.model,
      chatTemplate: chat,
      stopReason: wasCancelled ? 'cancelled' : (result.finishReason ?? 'unknown'),
      ...(result.usage ? { promptTokens: result.usage.promptTokens } : {}),
      ...(wasCancelled ? { cancelled: true } : {}),
    },
  };
}
