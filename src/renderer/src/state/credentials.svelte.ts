import type { AssetCredentials, SigningIdentityInfo } from '../../../shared/credentials';
import { attempt, messageOf } from '../lib/errors';

/** The Content Credentials of the generation open in the library detail. */
export class CredentialsView {
  items = $state.raw<AssetCredentials[] | null>(null);
  /** Why the library stored the pictures unsigned, when it did. */
  unsigned = $state<string | null>(null);
  error = $state<string | null>(null);
  #for = '';

  async load(generationId: string): Promise<void> {
    this.#for = generationId;
    this.items = null;
    this.unsigned = null;
    this.error = null;
    try {
      const { items, unsigned } = await window.studio.credentials.read({ id: generationId });
      // Another item may have opened while this one was read.
      if (this.#for !== generationId) return;
      this.items = items;
      this.unsigned = unsigned ?? null;
    } catch (error) {
      if (this.#for === generationId) this.error = messageOf(error);
    }
  }
}

/** This installation's signing identity, as Settings describes it. */
export class SigningIdentityView {
  identity = $state.raw<SigningIdentityInfo | null>(null);
  error = $state<string | null>(null);

  importError = $state<string | null>(null);
  importing = $state(false);

  async load(): Promise<void> {
    await attempt(async () => (this.identity = await window.studio.credentials.identity()), { error: (message) => (this.error = message) });
  }

  /** Signs with the person's own chain and key from now on; true when it was accepted. */
  async importOwn(chainPem: string, keyPem: string): Promise<boolean> {
    this.importError = null;
    return attempt(async () => (this.identity = await window.studio.credentials.importIdentity({ chainPem, keyPem })), {
      error: (message) => (this.importError = message),
      busy: (on) => (this.importing = on),
    });
  }
}
