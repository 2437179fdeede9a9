import type { GgufQuantList } from '../../shared/contract';
import { fileForQuant, listGgufQuants } from './gguf-quants';
import type { HubClient } from './hub-client';

/** The quantisations of a GGUF repository, from the hub's file tree (sizes are the real ones). */
export async function listHubGgufQuants(hub: HubClient, repo: string, revision: string, signal?: AbortSignal): Promise<GgufQuantList> {
  return listGgufQuants(await hub.listFiles(repo, revision, signal));
}

/**
 * The file pattern that downloads one quantisation: the exact file path (gguf-quants refuses names
 * the pattern syntax would misread). Used by models.pull and `atelier models pull --quant`.
 */
export async function patternsForQuant(hub: HubClient, repo: string, revision: string, quant: string): Promise<string[]> {
  return [fileForQuant(await listHubGgufQuants(hub, repo, revision), repo, quant)];
}
