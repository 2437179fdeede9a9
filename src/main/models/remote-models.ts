import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CallArgs, InstalledModel } from '../../shared/contract';
import { StudioError } from '../../shared/errors';
import { checkEndpoint, OpenAiClient } from '../../shared/openai-client';
import type { Handlers } from '../ipc/dispatch';
import { remoteKeyName, type SecretStore } from '../secrets';

/**
 * Text models on another machine (an OpenAI-compatible server), added from Settings or with
 * `atelier models add-remote`: both go through models.addRemote, so the address policy, the check
 * that the server offers the model and where the key is kept are one implementation. A remote model
 * is a small `<name>.openai.json` description in `<models>/remote/`, registered like a local model
 * (the engine's inspect asks the server). The key is never in that file: it is kept in the secret
 * store under the server's origin and handed to the engine for that origin only.
 */
export interface RemoteModelDeps {
  modelsDir: string;
  secrets: SecretStore;
  /** Registers the description after the engine checked it (ModelManager.importFolder). */
  register(file: string, name: string): Promise<InstalledModel>;
  listModels(): readonly Pick<InstalledModel, 'path'>[];
  /** Hands the engine the keys of every remote server now stored. */
  applyKeys(keys: Record<string, string>): Promise<void>;
}

type Endpoint = Pick<CallArgs<'models.testRemote'>, 'baseUrl' | 'allowHttp'>;

function assertAllowed({ baseUrl, allowHttp }: Endpoint): void {
  const verdict = checkEndpoint(baseUrl, allowHttp);
  if (verdict.ok) return;
  if (verdict.needsConfirmation) throw new StudioError('FORBIDDEN', `${verdict.reason} (tick "Allow plain http" in the form, or pass --allow-http).`);
  throw new StudioError('INVALID_INPUT', `${verdict.reason}.`);
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'remote';
}

async function readBaseUrl(file: string): Promise<string | null> {
  try {
    const json: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    return json && typeof json === 'object' && 'baseUrl' in json && typeof json.baseUrl === 'string' ? json.baseUrl : null;
  } catch {
    return null;
  }
}

/** The stored keys of the remote models that are registered, by origin. */
export async function storedRemoteKeys(deps: Pick<RemoteModelDeps, 'secrets' | 'listModels'>): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  for (const model of deps.listModels()) {
    if (!model.path.toLowerCase().endsWith('.openai.json')) continue;
    const baseUrl = await readBaseUrl(model.path);
    if (!baseUrl || !URL.canParse(baseUrl)) continue;
    const key = await deps.secrets.get(remoteKeyName(baseUrl)).catch(() => null);
    if (key) keys[new URL(baseUrl).origin] = key;
  }
  return keys;
}

export function remoteModelHandlers(deps: RemoteModelDeps): Pick<Handlers, 'models.testRemote' | 'models.addRemote'> {
  return {
    'models.testRemote': async ({ baseUrl, apiKey, allowHttp }) => {
      assertAllowed({ baseUrl, allowHttp });
      const key = apiKey || (await deps.secrets.get(remoteKeyName(baseUrl)).catch(() => null)) || undefined;
      const client = new OpenAiClient({ baseUrl, allowInsecureHttp: allowHttp, ...(key ? { apiKey: key } : {}) });
      return { models: await client.listModels(AbortSignal.timeout(15_000)) };
    },

    'models.addRemote': async ({ baseUrl, apiKey, allowHttp, model, name, apiKeyEnv }) => {
      assertAllowed({ baseUrl, allowHttp });
      if (apiKey && apiKeyEnv) throw new StudioError('INVALID_INPUT', 'Give the API key or the name of the environment variable that holds it, not both.');
      const title = name ?? `${model} @ ${new URL(baseUrl).host}`;
      const file = path.join(deps.modelsDir, 'remote', `${slug(title)}.openai.json`);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const description = { baseUrl, model, allowInsecureHttp: allowHttp, ...(apiKeyEnv ? { apiKeyEnv } : {}) };
      // 'wx': a description already there (another remote model by that name) is never replaced.
      await fs.writeFile(file, `${JSON.stringify(description, null, 2)}\n`, { flag: 'wx' }).catch((error: unknown) => {
        if (error instanceof Error && 'code' in error && error.code === 'EEXIST') throw new StudioError('INVALID_INPUT', `A remote model named "${title}" is already set up; choose another name.`);
        throw error;
      });
      const keyName = remoteKeyName(baseUrl);
      const previousKey = apiKey ? await deps.secrets.get(keyName).catch(() => null) : null;
      try {
        if (apiKey) {
          await deps.secrets.set(keyName, apiKey);
          await deps.applyKeys(await storedRemoteKeys(deps).then((keys) => ({ ...keys, [new URL(baseUrl).origin]: apiKey })));
        }
        return await deps.register(file, title);
      } catch (error) {
        // Only what this call wrote is undone: its own description, and the key it replaced.
        await fs.rm(file, { force: true });
        if (apiKey) {
          await deps.secrets.set(keyName, previousKey ?? '').catch(() => undefined);
          await deps.applyKeys(await storedRemoteKeys(deps)).catch(() => undefined);
        }
        throw error;
      }
    },
  };
}

/** The server a registered model file describes, when it is a remote model (`*.openai.json`). */
export async function remoteBaseUrlOf(modelPath: string | undefined): Promise<string | null> {
  if (!modelPath?.toLowerCase().endsWith('.openai.json')) return null;
  const baseUrl = await readBaseUrl(modelPath);
  return baseUrl && URL.canParse(baseUrl) ? baseUrl : null;
}

/**
 * After a remote model was removed: its server's key goes too when no other registered model uses
 * that server, so a key is kept exactly as long as something can send it.
 */
export async function forgetUnusedKey(deps: Pick<RemoteModelDeps, 'secrets' | 'listModels' | 'applyKeys'>, baseUrl: string): Promise<boolean> {
  const origin = new URL(baseUrl).origin;
  for (const model of deps.listModels()) {
    const other = await remoteBaseUrlOf(model.path);
    if (other && new URL(other).origin === origin) return false;
  }
  if ((await deps.secrets.get(remoteKeyName(baseUrl)).catch(() => null)) === null) return false;
  try {
    await deps.secrets.set(remoteKeyName(baseUrl), '');
    await deps.applyKeys(await storedRemoteKeys(deps));
  } catch (error) {
    throw new StudioError('INTERNAL', `The model was removed, but the API key kept for ${origin} could not be deleted (${error instanceof Error ? error.message : String(error)}). Remove another model of that server or delete it from the system keychain.`);
  }
  return true;
}
