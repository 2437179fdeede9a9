import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OutputFile, RunHooks, RunResult } from '../../shared/engine-protocol';
import { cancelled } from '../runtime/cancellation';
import type { EngineContext } from '../runtime/context';

/** What every local text backend's run (transformers.js, llama.cpp) shares: loading, token streaming, timings and the text file. */

export interface TextRunOptions {
  ctx: EngineContext;
  hooks: RunHooks;
  outDir: string;
}

/**
 * Loads the run's model behind a "Loading the language model" step, refusing to start, or to go on
 * after the load, once the job was cancelled. `started` and `loadedAt` are the run's first timings.
 */
export async function loadForRun<T>(hooks: RunHooks, maxNewTokens: number, load: () => Promise<T>): Promise<{ entry: T; started: number; loadedAt: number }> {
  const started = performance.now();
  if (hooks.signal.aborted) throw cancelled();
  hooks.onProgress(0, maxNewTokens, 'Loading the language model');
  const entry = await load();
  const loadedAt = performance.now();
  if (hooks.signal.aborted) throw cancelled();
  return { entry, started, loadedAt };
}

/** Minimum time between two text progress messages. */
const PROGRESS_INTERVAL_MS = 100;
/**
 * Token text produced within this time of the last token message is sent with the next one
 * (or when this timer runs out): a model faster than ~4 ms/token otherwise pays one IPC message
 * per token, and with a ~0.15 ms/token model that message cost more than the token. A model
 * slower than this still sends every token at once; no screen shows the difference (a frame is
 * 16 ms). The first token is always sent at once.
 */
const TOKEN_INTERVAL_MS = 4;

/**
 * What every local text backend (transformers.js, llama.cpp) does with the tokens of a run: counts
 * them, reports progress, streams their text to the job in small batches and times the run.
 */
export class TokenStream {
  /** Tokens decoded so far. */
  tokens = 0;
  private firstTokenAt = 0;
  // Text progress adds nothing per token (every token message carries the count), so it is sent
  // for the first token, then at most every PROGRESS_INTERVAL_MS, and once at the end.
  private lastProgressAt = 0;
  private pendingText = '';
  private lastTokenSentAt = 0;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly hooks: RunHooks,
    private readonly maxNewTokens: number,
  ) {}

  /** `count` more tokens were decoded. */
  counted(count: number): void {
    if (this.firstTokenAt === 0) this.firstTokenAt = performance.now();
    this.tokens += count;
    const now = performance.now();
    if (now - this.lastProgressAt >= PROGRESS_INTERVAL_MS) {
      this.lastProgressAt = now;
      this.hooks.onProgress(this.tokens, this.maxNewTokens);
    }
  }

  /** Decoded text, sent now or with the next batch. */
  text(text: string): void {
    if (text.length === 0) return;
    this.pendingText += text;
    if (performance.now() - this.lastTokenSentAt >= TOKEN_INTERVAL_MS) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), TOKEN_INTERVAL_MS);
  }

  /** Sends the text not sent yet; after a cancel nothing more is streamed. */
  flush(): void {
    this.stopTimer();
    if (this.pendingText.length === 0 || this.hooks.signal.aborted) return;
    this.hooks.onToken?.(this.pendingText, this.tokens);
    this.pendingText = '';
    this.lastTokenSentAt = performance.now();
  }

  /** Drops the pending batch timer (the run ended, however it ended). */
  stopTimer(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  /**
   * The finished run's result: the text written to `text.txt` in `outDir`, the token count and the
   * timings (`started` when the job began, `loadedAt` after the load, `generateStarted` when
   * decoding began, `finished` when it ended). Sends the final progress message first.
   */
  async result(
    outDir: string,
    run: Pick<RunResult, 'seed' | 'provider' | 'providerNote' | 'meta'> & { text: string },
    times: { started: number; loadedAt: number; generateStarted: number; finished: number },
  ): Promise<RunResult> {
    this.hooks.onProgress(this.tokens, this.maxNewTokens);
    const { text, providerNote, ...rest } = run;
    return {
      outputs: [await writeTextOutput(outDir, text)],
      text,
      tokens: this.tokens,
      ...rest,
      ...(providerNote ? { providerNote } : {}),
      timings: this.timings(times.started, times.loadedAt, times.generateStarted, times.finished),
    };
  }

  private timings(started: number, loadedAt: number, generateStarted: number, finished: number): Record<string, number> {
    const decodeSeconds = this.firstTokenAt ? (finished - this.firstTokenAt) / 1000 : 0;
    const tokensPerSecond = this.tokens > 1 && decodeSeconds > 0 ? (this.tokens - 1) / decodeSeconds : this.tokens / Math.max(1e-3, (finished - generateStarted) / 1000);
    return {
      loadMs: loadedAt - started,
      timeToFirstTokenMs: this.firstTokenAt ? this.firstTokenAt - generateStarted : finished - generateStarted,
      generateMs: finished - generateStarted,
      tokensPerSecond,
      totalMs: finished - started,
    };
  }
}

/** Writes a text run's result as `text.txt` in the run's output folder. */
export async function writeTextOutput(outDir: string, text: string): Promise<OutputFile> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, 'text.txt');
  await writeFile(file, text, 'utf8');
  return { path: file, mime: 'text/plain; charset=utf-8', role: 'text' };
}
