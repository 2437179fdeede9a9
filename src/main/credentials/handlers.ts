import { promises as fs } from 'node:fs';
import type { Catalog } from '../models/catalog';
import { findCatalogEntry } from '../models/catalog';
import type { Handlers } from '../ipc/dispatch';
import type { Library } from '../library';
import type { DataLayout } from '../paths';
import type { AssetCredentials } from '../../shared/credentials';
import { StudioError } from '../../shared/errors';
import type { ExportSigning } from './export-signing';
import { ensureSigningIdentity, importSigningIdentity, installationTrustAnchors, type SigningIdentity } from './identity';
import { unsignedReasonOf } from './library-signing';
import { readCredentials } from './read';
import { loadC2paSdk, SIGNABLE_MIME } from './sdk';

interface CredentialDeps {
  library: Library;
  layout: DataLayout;
  catalog: Catalog;
  version: string;
}

/**
 * What an export signs with: this installation's identity and the catalog's licences; or, where
 * the C2PA library cannot load on this system, why the export goes out unsigned (an export is
 * never refused for want of a signature).
 */
export async function exportSigning(deps: CredentialDeps): Promise<{ signing?: ExportSigning; unsigned?: string }> {
  try {
    await loadC2paSdk();
  } catch (error) {
    return { unsigned: error instanceof Error ? error.message : String(error) };
  }
  return {
    signing: {
      identity: await ensureSigningIdentity(deps.layout.dataDir),
      generatorVersion: deps.version,
      licenceOf: (model) => {
        // A downloaded model's source is `hf:<repo>@<revision>`; the catalog knows repos and ids.
        const source = deps.library.findModel(model)?.source ?? '';
        const repo = source.startsWith('hf:') ? source.slice(3).split('@')[0] : undefined;
        const entry = (repo ? findCatalogEntry(deps.catalog, repo) : undefined) ?? findCatalogEntry(deps.catalog, model);
        return entry ? { id: entry.licence.id, url: entry.licence.url } : null;
      },
    },
  };
}

async function credentialsOf(deps: CredentialDeps, id: string, trustAnchorsPem: string | undefined): Promise<AssetCredentials[]> {
  const generation = deps.library.getGeneration(id);
  const items: AssetCredentials[] = [];
  for (const asset of generation.assets) {
    if (!SIGNABLE_MIME.has(asset.mime)) continue;
    const source = deps.library.resolveAsset(asset.id);
    if (!source) throw new StudioError('NOT_FOUND', `A file of generation ${id} is missing from the library (asset ${asset.id}). Run a library check.`);
    const credentials = await readCredentials(await fs.readFile(source.path), asset.mime, { trustAnchorsPem });
    items.push({ assetId: asset.id, mime: asset.mime, credentials });
  }
  return items;
}

/**
 * What the credentials of freshly imported pictures say, counted by state; undefined where the
 * C2PA library cannot load (an import never fails for want of it).
 */
export async function importedCredentials(deps: CredentialDeps, ids: string[]): Promise<{ trusted: number; valid: number; invalid: number } | undefined> {
  try {
    await loadC2paSdk();
  } catch {
    return undefined;
  }
  const trustAnchorsPem = await installationTrustAnchors(deps.layout.dataDir);
  const counts = { trusted: 0, valid: 0, invalid: 0 };
  for (const id of ids) {
    for (const { credentials } of await credentialsOf(deps, id, trustAnchorsPem)) {
      if (credentials.state !== 'none') counts[credentials.state]++;
    }
  }
  return counts;
}

function identityInfo({ subject, issuer, validTo, selfIssued }: SigningIdentity) {
  return { subject, issuer, validTo, selfIssued };
}

export function credentialHandlers(deps: CredentialDeps): Pick<Handlers, 'credentials.read' | 'credentials.identity' | 'credentials.importIdentity'> {
  return {
    // Reading makes no identity: only signing does.
    'credentials.read': async ({ id }) => {
      const unsigned = unsignedReasonOf(deps.library.getGeneration(id).params);
      return { items: await credentialsOf(deps, id, await installationTrustAnchors(deps.layout.dataDir)), ...(unsigned ? { unsigned } : {}) };
    },
    'credentials.identity': async () => identityInfo(await ensureSigningIdentity(deps.layout.dataDir)),
    'credentials.importIdentity': async ({ chainPem, keyPem }) => identityInfo(await importSigningIdentity(deps.layout.dataDir, chainPem, keyPem)),
  };
}
