import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { EngineOptions, ModelInspection } from '../../shared/engine-protocol';
import { checkEndpoint, OpenAiClient } from '../../shared/openai-client';

/**
 * A text model on another machine: a small `<name>.openai.json` file in the models folder names an
 * OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, LM Studio, another Atelier) and one of
 * its models. It is registered like any model, so the Write tab and the CLI pick it like the others.
 * An API key is never written there: `apiKeyEnv` names the environment variable that holds it.
 */
export const RemoteModel = z.strictObject({
  baseUrl: z.string().min(1).max(2000),
  model: z.string().min(1).max(500),
  /** Plain http to a loopback or private address, confirmed by the person who added it. */
  allowInsecureHttp: z.boolean().default(false),
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).max(100).optional(),
});
export type RemoteModel = z.infer<typeof RemoteModel>;

export function isRemoteModelPath(target: string): boolean {
  if (!target.toLowerCase().endsWith('.openai.json')) return false;
  try {
    return statSync(target).isFile();
  } catch {
    return false;
  }
}

export function readRemoteModel(file: string): RemoteModel {
  return RemoteModel.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * The client for a remote model. Its key comes from the environment variable the description names,
 * else from the keys main stored for exactly this origin (Settings → Text servers), so a key never
 * goes to another host.
 */
export function remoteClient(remote: RemoteModel, storedKeys: Record<string, string> = {}): OpenAiClient {
  const apiKey = (remote.apiKeyEnv ? process.env[remote.apiKeyEnv] : undefined) ?? storedKeys[originOf(remote.baseUrl)];
  return new OpenAiClient({ baseUrl: remote.baseUrl, allowInsecureHttp: remote.allowInsecureHttp, ...(apiKey ? { apiKey } : {}) });
}

function originOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).origin;
  } catch {
    return '';
  }
}

/** Engine options as they may be told back (replies, status): without the API keys. */
export function withoutApiKeys(options: EngineOptions): EngineOptions {
  const { remoteApiKeys: _keys, ...rest } = options;
  return rest;
}

/** Checks the file, the address policy, and that the server answers and offers the model. */
export async function inspectRemoteModel(file: string, storedKeys: Record<string, string> = {}): Promise<ModelInspection> {
  const base = { files: [{ path: path.basename(file), bytes: statSync(file).size }], totalBytes: 0 };
  let remote: RemoteModel;
  try {
    remote = readRemoteModel(file);
  } catch (error) {
    return { ...base, kind: 'unknown', ok: false, problems: [`${path.basename(file)} is not a remote model description (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`] };
  }
  const verdict = checkEndpoint(remote.baseUrl, remote.allowInsecureHttp);
  if (!verdict.ok) return { ...base, kind: 'text', ok: false, problems: [verdict.reason] };
  try {
    const models = await remoteClient(remote, storedKeys).listModels(AbortSignal.timeout(10_000));
    if (!models.includes(remote.model)) return { ...base, kind: 'text', ok: false, problems: [`${remote.baseUrl} does not offer a model named "${remote.model}"; it offers: ${models.slice(0, 20).join(', ') || 'none'}`] };
  } catch (error) {
    return { ...base, kind: 'text', ok: false, problems: [error instanceof Error ? error.message : String(error)] };
  }
  return { ...base, kind: 'text', ok: true, problems: [], architecture: `remote:${remote.model}` };
}
