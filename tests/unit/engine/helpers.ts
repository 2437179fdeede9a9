import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunHooks } from '../../../src/shared/engine-protocol';
import { ensureFixtures, type FixturePaths } from '../../../scripts/fixtures/index';

let fixtures: Promise<FixturePaths> | null = null;
export function getFixtures(): Promise<FixturePaths> {
  fixtures ??= ensureFixtures();
  return fixtures;
}

export function tempDir(prefix = 'atelier-engine-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface RecordedHooks extends RunHooks {
  controller: AbortController;
  tokens: { text: string; tokens: number }[];
  progress: { step: number; totalSteps: number; message?: string }[];
}

export function recordingHooks(onToken?: (text: string, count: number, hooks: RecordedHooks) => void): RecordedHooks {
  const controller = new AbortController();
  const hooks: RecordedHooks = {
    controller,
    signal: controller.signal,
    tokens: [],
    progress: [],
    onProgress(step, totalSteps, message) {
      hooks.progress.push({ step, totalSteps, message });
    },
    onToken(text, tokens) {
      hooks.tokens.push({ text, tokens });
      onToken?.(text, tokens, hooks);
    },
  };
  return hooks;
}
