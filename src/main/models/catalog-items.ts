import type { CatalogItem, InstalledModel } from '../../shared/contract';
import { findCatalogEntry, type Catalog } from './catalog';
import { parseRepoAtRevision } from './repo-spec';

/** The catalog as the Models view shows it: sizes per variant (dtype, or GGUF quantisation) and whether it is installed. */
export function catalogItems(catalog: Catalog, installed: readonly Pick<InstalledModel, 'id' | 'source'>[]): CatalogItem[] {
  return catalog.models.map((entry) => {
    const variants =
      entry.format === 'gguf'
        ? { defaultDtype: entry.defaultQuant, dtypes: entry.quants }
        : { defaultDtype: entry.defaultDtype, dtypes: Object.fromEntries(Object.entries(entry.dtypes).map(([dtype, files]) => [dtype, { approxBytes: files?.approxBytes ?? 0 }])) };
    return {
      id: entry.id,
      kind: entry.kind,
      ...(entry.format === 'onnx' && entry.embeds ? { embeds: entry.embeds } : {}),
      format: entry.format,
      repo: entry.repo,
      revision: entry.revision,
      verified: entry.verified,
      verificationNote: entry.verificationNote,
      title: entry.title,
      goodFor: entry.goodFor,
      licence: entry.licence,
      hardware: entry.hardware,
      ...variants,
      installedId: installed.find((m) => m.source.startsWith(`hf:${entry.repo}@`))?.id ?? null,
      ...(entry.format === 'onnx' && entry.recommended ? { recommended: entry.recommended } : {}),
    };
  });
}

/** A catalog id or owner/name[@revision], with the revision the catalog pins when none is given. */
export function resolveHubRepo(catalog: Catalog | undefined, repo: string, revision?: string): { repo: string; revision: string; title?: string } {
  const entry = catalog ? findCatalogEntry(catalog, repo) : undefined;
  const spec = entry ? entry.repo : repo;
  const parsed = parseRepoAtRevision(revision ? `${spec}@${revision}` : entry ? `${spec}@${entry.revision}` : spec);
  return { ...parsed, ...(entry ? { title: entry.title } : {}) };
}
