import { promises as fs } from 'node:fs';
import path from 'node:path';
import { safeStorage } from 'electron';
import { StudioError } from '../../shared/errors';
import type { TokenStore } from '../studio';

/** The Hugging Face token, encrypted with the OS keychain (safeStorage); never stored in plain text. */
export function keychainTokenStore(dataDir: string): TokenStore {
  const file = path.join(dataDir, 'hf-token.enc');
  return {
    async get() {
      if (process.env.HF_TOKEN) return process.env.HF_TOKEN;
      const data = await fs.readFile(file).catch(() => null);
      if (!data || !safeStorage.isEncryptionAvailable()) return null;
      return safeStorage.decryptString(data);
    },
    async set(token) {
      if (!token) {
        await fs.rm(file, { force: true });
        return true;
      }
      if (!safeStorage.isEncryptionAvailable()) {
        throw new StudioError('FORBIDDEN', 'This system has no keychain Atelier can use, so the token was not stored. Set the HF_TOKEN environment variable instead.');
      }
      await fs.writeFile(file, safeStorage.encryptString(token), { mode: 0o600 });
      return true;
    },
  };
}
