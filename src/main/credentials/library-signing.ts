import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CommitGenerationInput, LibraryReader } from '../library';
import { parentIngredientOf, type ExportSigning } from './export-signing';
import { SIGNABLE_MIME } from './sdk';
import { signWithCredentials, type SignedGeneration } from './sign';

/**
 * Signs the pictures a generation made as it is committed, so the library's own files carry
 * Content Credentials. The store is content-addressed: the staged file is signed in place before
 * the store hashes it, so the address is the signed file's hash, and nothing changes the bytes
 * later (ratings, tags and notes live in the database and the records, not in the PNG).
 *
 * Signing never fails or holds up a generation: when it is off, when the C2PA library cannot load
 * here, or when signing throws, the picture is stored unsigned and why is kept in its parameters
 * (`params.meta.unsigned`), which the library detail shows in its credentials section.
 */

export interface LibrarySigningDeps {
  library: Pick<LibraryReader, 'findGeneration' | 'resolveAsset' | 'listAncestors'>;
  /** The setting (`signLibrary`), read at every commit so a change applies to the next picture. */
  enabled(): boolean;
  /** The identity and licences to sign with, or why there are none on this system. */
  signing(): Promise<{ signing?: ExportSigning; unsigned?: string }>;
  now?: () => Date;
}

export const SIGNING_OFF_REASON = 'signing pictures in the library is turned off in Settings → Content Credentials';

/** The pictures of a commit that get a manifest: the picture itself, not its thumbnail or a mask copy. */
function picturesOf(commit: CommitGenerationInput) {
  return (commit.files ?? []).filter((file) => file.role === 'image' && file.mime.startsWith('image/') && SIGNABLE_MIME.has(file.mime));
}

/** Why a generation's pictures were stored unsigned, when they were. */
export function unsignedReasonOf(params: Record<string, unknown>): string | null {
  const meta = params.meta;
  if (typeof meta !== 'object' || meta === null) return null;
  const reason = (meta as Record<string, unknown>).unsigned;
  return typeof reason === 'string' ? reason : null;
}

function withUnsignedReason(commit: CommitGenerationInput, reason: string): CommitGenerationInput {
  const params = commit.params ?? {};
  const meta = typeof params.meta === 'object' && params.meta !== null ? (params.meta as Record<string, unknown>) : {};
  return { ...commit, params: { ...params, meta: { ...meta, unsigned: reason } } };
}

function provenanceOf(library: LibrarySigningDeps['library'], commit: CommitGenerationInput, now: Date): SignedGeneration {
  const { kind, model, modelDigest = null, prompt = '', negativePrompt = '', seed = null, params = {}, provider = null, parentId = null } = commit;
  const lineage = parentId ? [parentId, ...library.listAncestors(parentId).map((a) => a.id)] : [];
  // The id is made when the row is written, after the store has hashed the signed file.
  return { version: 1, generator: 'Atelier', id: null, kind, model, modelDigest, prompt, negativePrompt, seed, params, provider, parentId, lineage, created: now.toISOString(), createdAt: now.getTime() };
}

async function signPictures(deps: LibrarySigningDeps, commit: CommitGenerationInput, signing: ExportSigning): Promise<void> {
  const provenance = provenanceOf(deps.library, commit, deps.now?.() ?? new Date());
  const parent = await parentIngredientOf(deps.library, { parentId: provenance.parentId, params: provenance.params });
  // All are signed before any is replaced, so a failure half-way leaves every staged file as the engine wrote it.
  const signed: { file: string; bytes: Buffer }[] = [];
  for (const picture of picturesOf(commit)) {
    const bytes = await signWithCredentials(signing.identity, {
      bytes: await fs.readFile(picture.sourcePath),
      mime: picture.mime,
      title: path.basename(picture.sourcePath),
      provenance,
      parent,
      licence: signing.licenceOf?.(commit.model) ?? null,
      generatorVersion: signing.generatorVersion,
    });
    signed.push({ file: picture.sourcePath, bytes });
  }
  // The staging folder is the job's own scratch space: the engine's copy is replaced, never a
  // user's file, and through a rename, so a failed write leaves the unsigned picture whole.
  for (const { file, bytes } of signed) {
    await fs.writeFile(`${file}.signed`, bytes);
    await fs.rename(`${file}.signed`, file);
  }
}

/**
 * The commit with its pictures signed in their staging files, or unchanged with the reason they
 * stay unsigned in `params.meta.unsigned`. Never throws.
 */
export async function signCommittedPictures(deps: LibrarySigningDeps, commit: CommitGenerationInput): Promise<CommitGenerationInput> {
  if (picturesOf(commit).length === 0) return commit;
  try {
    if (!deps.enabled()) return withUnsignedReason(commit, SIGNING_OFF_REASON);
    const { signing, unsigned } = await deps.signing();
    if (!signing) return withUnsignedReason(commit, unsigned ?? 'no signing identity');
    await signPictures(deps, commit, signing);
    return commit;
  } catch (error) {
    return withUnsignedReason(commit, `signing failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
