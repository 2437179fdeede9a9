import { promises as fs } from 'node:fs';
import path from 'node:path';
import { safeStorage } from 'electron';
import { StudioError } from '../../shared/errors';
import { SECRET_NAME, type SecretStore } from '../secrets';
import type { TokenStore } from '../studio';

/** One secret in one file, encrypted with the OS keychain (safeStorage); never stored in plain text. */
function encryptedFile(file: string, refusal: string) {
  return {
    async read(): Promise<string | null> {
      const data = await fs.readFile(file).catch(() => null);
      if (!data || !safeStorage.isEncryptionAvailable()) return null;
      return safeStorage.decryptString(data);
    },
    async write(value: string): Promise<void> {
      if (!value) {
        await fs.rm(file, { force: true });
        return;
      }
      if (!safeStorage.isEncryptionAvailable()) throw new StudioError('FORBIDDEN', refusal);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, safeStorage.encryptString(value), { mode: 0o600 });
    },
  };
}

/** The Hugging Face token, encrypted with the OS keychain (safeStorage); never stored in plain text. */
export function keychainTokenStore(dataDir: string): TokenStore {
  const file = encryptedFile(path.join(dataDir, 'hf-token.enc'), 'This system has no keychain Atelier can use, so the token was not stored. Set the HF_TOKEN environment variable instead.');
  return {
    async get() {
      if (process.env.HF_TOKEN) return process.env.HF_TOKEN;
      return file.read();
    },
    async set(token) {
      await file.write(token);
      return true;
    },
  };
}

/** API keys of text servers, each in `<data>/secrets/<name>.enc`, encrypted like the hub token. */
export function keychainSecretStore(dataDir: string): SecretStore {
  const fileOf = (name: string) => {
    if (!SECRET_NAME.test(name)) throw new StudioError('INVALID_INPUT', `"${name.slice(0, 100)}" is not a secret name.`);
    return encryptedFile(path.join(dataDir, 'secrets', `${name}.enc`), 'This system has no keychain Atelier can use, so the API key was not stored. Add the server from the command line with --api-key-env VAR instead.');
  };
  return {
    get: (name) => fileOf(name).read(),
    set: (name, value) => fileOf(name).write(value),
  };
}
