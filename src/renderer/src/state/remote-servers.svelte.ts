import { checkEndpoint } from '../../../shared/openai-client';
import { attempt, messageOf } from '../lib/errors';
import { models } from './models.svelte';
import { toasts } from './toasts.svelte';

/**
 * Settings → Text servers: the form that adds a model of an OpenAI-compatible server (vLLM,
 * llama.cpp's server, Ollama, LM Studio, another Atelier) as a text model. The address policy shown
 * while typing is the one the back end enforces (checkEndpoint, also behind models.addRemote).
 */
class RemoteServerForm {
  baseUrl = $state('');
  apiKey = $state('');
  allowHttp = $state(false);
  name = $state('');
  model = $state('');
  /** Models the server offered at the last Test, for the URL and key tested. */
  offered = $state.raw<string[] | null>(null);
  testing = $state(false);
  adding = $state(false);
  error = $state<string | null>(null);
  #testedFor = '';

  /** What the address needs: nothing, the plain-http confirmation, or a fix (with the reason). */
  readonly verdict = $derived.by(() => {
    const url = this.baseUrl.trim();
    if (!url) return { state: 'empty' as const };
    const checked = checkEndpoint(url, true);
    if (!checked.ok) return { state: 'invalid' as const, reason: checked.reason };
    const plain = checkEndpoint(url, false);
    return plain.ok ? { state: 'ok' as const } : { state: 'needs-confirmation' as const, reason: plain.reason };
  });

  readonly canTest = $derived(!this.testing && (this.verdict.state === 'ok' || (this.verdict.state === 'needs-confirmation' && this.allowHttp)));

  /** Clears what a Test found once the address or key it was for changes. */
  edited(): void {
    if (this.#testedFor !== `${this.baseUrl.trim()}\n${this.apiKey}`) this.offered = null;
    this.error = null;
  }

  async test(): Promise<void> {
    this.testing = true;
    this.error = null;
    try {
      const { models: offered } = await window.studio.models.testRemote(this.#endpoint());
      this.#testedFor = `${this.baseUrl.trim()}\n${this.apiKey}`;
      this.offered = offered;
      this.model = offered.includes(this.model) ? this.model : (offered[0] ?? '');
    } catch (error) {
      this.offered = null;
      this.error = messageOf(error);
    } finally {
      this.testing = false;
    }
  }

  async add(): Promise<boolean> {
    if (!this.model) return false;
    this.error = null;
    return attempt(
      async () => {
        const added = await window.studio.models.addRemote({ ...this.#endpoint(), model: this.model, ...(this.name.trim() ? { name: this.name.trim() } : {}) });
        toasts.show(`Added ${added.name}: pick it in the Write tab`, 'success');
        await models.refresh();
        this.name = '';
        this.apiKey = '';
        this.offered = null;
      },
      { error: (message) => (this.error = message), busy: (on) => (this.adding = on) },
    );
  }

  #endpoint() {
    return { baseUrl: this.baseUrl.trim(), allowHttp: this.allowHttp, ...(this.apiKey.trim() ? { apiKey: this.apiKey.trim() } : {}) };
  }
}

export const remoteServerForm = new RemoteServerForm();
