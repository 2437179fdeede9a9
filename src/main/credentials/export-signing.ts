import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Generation } from '../../shared/contract';
import type { LibraryReader } from '../library';
import type { AtelierProvenance } from '../library-io/provenance';
import type { SigningIdentity } from './identity';
import { hasEmbeddedCredentials, SIGNABLE_MIME } from './sdk';
import { isEdit, signWithCredentials, sourceAssetIdOf, type ParentIngredient } from './sign';

/** What an export needs to sign its files. */
export interface ExportSigning {
  identity: SigningIdentity;
  generatorVersion: string;
  /** The licence of a model, when the catalog knows it. */
  licenceOf?: (model: string) => { id: string; url: string } | null;
}

/**
 * The picture an edit started from, as an ingredient: the asset its parameters name, or for an
 * edit that names none, the first picture of its parent generation. Used for exports and for
 * pictures signed as they are committed (which have no row yet, only parameters and a parent).
 */
export async function parentIngredientOf(library: Pick<LibraryReader, 'findGeneration' | 'resolveAsset'>, g: Pick<Generation, 'parentId' | 'params'>): Promise<ParentIngredient | null> {
  const parent = g.parentId ? library.findGeneration(g.parentId) : null;
  let assetId = sourceAssetIdOf(g.params);
  if (!assetId && parent && isEdit(g.params)) assetId = parent.assets.find((a) => a.mime.startsWith('image/'))?.id ?? null;
  if (!assetId) return null;
  const source = library.resolveAsset(assetId);
  if (!source) return null;
  const owner = parent?.assets.some((a) => a.id === assetId) ? parent.id : null;
  return {
    bytes: await fsp.readFile(source.path),
    mime: source.mime,
    title: owner ? `Atelier generation ${owner}${path.extname(source.path)}` : `Atelier picture ${assetId}${path.extname(source.path)}`,
    generationId: owner,
  };
}

/**
 * The file signed, or unchanged when its format cannot carry a manifest (Markdown, JSON).
 * `stored` is the library's own file: when it carries credentials (signed as it was committed, or
 * imported signed) the export cannot keep them, since embedding the provenance changed the bytes
 * they hash, so the export gets a new manifest with the stored file as its parent ingredient and
 * the stored manifest's history stays inside it.
 */
export async function signExportedFile(
  library: LibraryReader,
  signing: ExportSigning,
  file: { generation: Generation; provenance: AtelierProvenance; bytes: Uint8Array; stored: Uint8Array; mime: string; title: string },
): Promise<Uint8Array> {
  if (!SIGNABLE_MIME.has(file.mime)) return file.bytes;
  const libraryCopy = hasEmbeddedCredentials(file.stored, file.mime);
  return signWithCredentials(signing.identity, {
    bytes: file.bytes,
    mime: file.mime,
    title: file.title,
    provenance: file.provenance,
    parent: libraryCopy
      ? { bytes: file.stored, mime: file.mime, title: `Atelier library file of ${file.generation.id}${path.extname(file.title)}`, generationId: file.generation.id }
      : file.mime.startsWith('image/')
        ? await parentIngredientOf(library, file.generation)
        : null,
    parentIsLibraryCopy: libraryCopy,
    licence: signing.licenceOf?.(file.generation.model) ?? null,
    generatorVersion: signing.generatorVersion,
  });
}
