import { createHash } from 'node:crypto';
import { StudioError } from '../shared/errors';

/**
 * Named secrets (API keys of text servers), kept like the hub token: encrypted by the OS keychain in
 * the desktop app (shell/token-store.ts), never written in plain text. Elsewhere nothing is stored:
 * keys come from environment variables the person names.
 */
export interface SecretStore {
  get(name: string): Promise<string | null>;
  /** Stores a secret; an empty value removes it. Throws FORBIDDEN where it cannot be kept safely. */
  set(name: string, value: string): Promise<void>;
}

export const SECRET_NAME = /^[a-z0-9][a-z0-9-]{0,80}$/;

export const noSecretStore: SecretStore = {
  get: async () => null,
  set: async (_name, value) => {
    if (!value) return;
    throw new StudioError(
      'FORBIDDEN',
      'Outside the desktop app Atelier does not store API keys. Leave the key empty, or add the server from the command line with --api-key-env VAR so the key stays in that environment variable.',
    );
  },
};

/** The name an OpenAI-compatible server's key is kept under: one per origin, so a key is sent only to the host it was given for. */
export function remoteKeyName(baseUrl: string): string {
  return `openai-${createHash('sha256').update(new URL(baseUrl).origin).digest('hex').slice(0, 32)}`;
}
