import type { CatalogItem, DownloadState, InstalledModel } from '../../../shared/contract';
import type { GenerationKind } from '../../../shared/params';
import { attempt, messageOf } from '../lib/errors';
import { plural } from '../lib/format';
import { toasts } from './toasts.svelte';

export type Dtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16';
const DTYPES: readonly string[] = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'];
export function isDtype(value: string): value is Dtype {
  return DTYPES.includes(value);
}

function codeOf(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return 'INTERNAL';
}

export interface VerifyResult {
  ok: boolean;
  problems: string[];
}

/** What a person can do about a failed download, by error code and message. */
export function downloadAdvice(error: { code: string; message: string }): { title: string; action: string; needsToken: boolean } {
  const text = error.message.toLowerCase();
  if (error.code === 'FORBIDDEN' || /gated|private|401|403|token/.test(text))
    return { title: 'This model needs permission', action: 'Accept the licence on the model page, paste a Hugging Face access token below, then press Resume.', needsToken: true };
  if (error.code === 'DISK_FULL' || /no space|disk full|enospc/.test(text))
    return { title: 'The disk is full', action: 'Free some space (or remove models you no longer use), then press Resume.', needsToken: false };
  if (error.code === 'HASH_MISMATCH' || /hash|sha256|checksum/.test(text))
    return { title: 'A file arrived damaged', action: 'The damaged file was discarded. Press Resume to download it again.', needsToken: false };
  if (error.code === 'NOT_FOUND' || /not found|404/.test(text))
    return { title: 'Not found on the hub', action: 'Check the repository name and revision; it may have been renamed or removed.', needsToken: false };
  if (error.code === 'NETWORK' || /enotfound|econnrefused|offline|fetch failed|network|timed? ?out|unreachable/.test(text))
    return { title: 'Cannot reach the model hub', action: 'You seem to be offline or the hub address (Settings → Downloads → Model hub endpoint) is unreachable. Connect, then press Resume.', needsToken: false };
  return { title: 'The download stopped', action: 'Press Resume to try again.', needsToken: false };
}

/** Installed models (models.list), the catalog and downloads, shared by the pickers and the Models view. */
class Models {
  items = $state.raw<InstalledModel[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  catalog = $state.raw<CatalogItem[]>([]);
  catalogError = $state<string | null>(null);
  downloads = $state.raw<Record<string, DownloadState>>({});
  /** Errors from starting a pull (before any download id exists), keyed by catalog id. */
  pullErrors = $state.raw<Record<string, { code: string; message: string }>>({});
  verifying = $state.raw<Record<string, VerifyResult | 'running'>>({});
  #pending: Promise<void> | null = null;
  #subscribed = false;

  ofKind(kind: GenerationKind): InstalledModel[] {
    return this.items.filter((model) => model.kind === kind);
  }

  ensure(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return this.refresh();
  }

  /** Catalog, downloads and live progress for the Models view. */
  async initManager(): Promise<void> {
    if (!this.#subscribed) {
      this.#subscribed = true;
      window.studio.on('models.progress', (state) => {
        this.downloads = { ...this.downloads, [state.id]: state };
        if (state.status === 'done') {
          toasts.show(`Downloaded ${state.repo}`, 'success');
          void this.refresh();
          void this.loadCatalog();
        }
      });
    }
    await Promise.all([this.loadCatalog(), this.loadDownloads(), this.refresh()]);
  }

  async loadCatalog(): Promise<void> {
    await attempt(async () => {
      this.catalog = (await window.studio.models.catalog({})).items;
      this.catalogError = null;
    }, { error: (message) => (this.catalogError = message) });
  }

  async loadDownloads(): Promise<void> {
    try {
      const { items } = await window.studio.models.downloads({});
      this.downloads = { ...Object.fromEntries(items.map((d) => [d.id, d])), ...this.downloads };
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  /** Downloads a catalog item: an ONNX model in one dtype, or one GGUF quantisation (a quant name or a file path). */
  async pull(item: CatalogItem, variant: { dtype: Dtype } | { quant: string }): Promise<void> {
    const { [item.id]: _cleared, ...rest } = this.pullErrors;
    this.pullErrors = rest;
    try {
      const { downloadId } = await window.studio.models.pull({ repo: item.id, ...variant, name: item.title });
      this.downloads = {
        ...this.downloads,
        [downloadId]: this.downloads[downloadId] ?? { id: downloadId, repo: item.repo, revision: item.revision, status: 'queued', bytesDone: 0, bytesTotal: 0, rate: 0, etaMs: null },
      };
    } catch (error) {
      this.pullErrors = { ...this.pullErrors, [item.id]: { code: codeOf(error), message: messageOf(error) } };
    }
  }

  async control(action: 'pause' | 'resume' | 'cancel', downloadId: string): Promise<void> {
    try {
      if (action === 'pause') await window.studio.models.pause({ downloadId });
      else if (action === 'resume') await window.studio.models.resume({ downloadId });
      else await window.studio.models.cancel({ downloadId });
      await this.loadDownloads();
    } catch (error) {
      toasts.error(messageOf(error));
    }
  }

  async setToken(token: string): Promise<boolean> {
    try {
      const { stored } = await window.studio.models.setToken({ token });
      toasts.show(stored ? 'Access token saved' : 'Access token cleared', 'success');
      return true;
    } catch (error) {
      toasts.error(messageOf(error));
      return false;
    }
  }

  async verify(id: string): Promise<void> {
    this.verifying = { ...this.verifying, [id]: 'running' };
    try {
      const { ok, problems } = await window.studio.models.verify({ id });
      this.verifying = { ...this.verifying, [id]: { ok, problems } };
    } catch (error) {
      this.verifying = { ...this.verifying, [id]: { ok: false, problems: [messageOf(error)] } };
    }
  }

  /** Registers a folder already on disk; the back end validates its layout first. */
  async importFolder(path: string, name?: string): Promise<boolean> {
    try {
      const model = await window.studio.models.import({ path, ...(name ? { name } : {}) });
      this.items = [...this.items.filter((item) => item.id !== model.id), model];
      toasts.show(`Imported ${model.name}`, 'success');
      return true;
    } catch (error) {
      toasts.error(messageOf(error));
      return false;
    }
  }

  async remove(id: string): Promise<number | null> {
    try {
      const { usedBy } = await window.studio.models.remove({ id });
      this.items = this.items.filter((item) => item.id !== id);
      toasts.show(usedBy > 0 ? `Model removed; ${plural(usedBy, 'generation')} in the library ${usedBy === 1 ? 'was' : 'were'} made with it and keep${usedBy === 1 ? 's its' : ' their'} parameters` : 'Model removed', 'info');
      if (this.catalog.some((c) => c.installedId === id)) void this.loadCatalog();
      return usedBy;
    } catch (error) {
      toasts.error(messageOf(error));
      return null;
    }
  }

  refresh(): Promise<void> {
    this.#pending ??= (async () => {
      await attempt(async () => {
        this.items = (await window.studio.models.list()).items;
        this.error = null;
      }, { error: (message) => (this.error = message) });
      this.loaded = true;
      this.#pending = null;
    })();
    return this.#pending;
  }
}

export const models = new Models();
