import type { AtelierProvenance } from '../library-io/provenance';
import type { SigningIdentity } from './identity';
import { ATELIER_ASSERTION_LABEL, DIGITAL_SOURCE_TYPE, loadC2paSdk } from './sdk';

/**
 * Signs one exported file with a C2PA manifest: what made it (c2pa.created for a generation from
 * nothing, c2pa.opened + c2pa.edited with the source picture as its parent ingredient for img2img,
 * inpaint, outpaint and upscale) and our own assertion with the model, its licence and the
 * parameters. The bytes already carry Atelier's provenance chunks; the manifest is added beside
 * them and hashes them, so changing any of them later makes the credential invalid.
 */

export interface ParentIngredient {
  bytes: Uint8Array;
  mime: string;
  title: string;
  /** The generation the parent picture belongs to, when the library knows it. */
  generationId: string | null;
}

/**
 * The generation a manifest describes: a stored one (export), or one being committed to the
 * library, which has no id yet (the store hashes the signed file before the row is written).
 */
export type SignedGeneration = Omit<AtelierProvenance, 'id'> & { id: string | null };

export interface SignInput {
  bytes: Uint8Array;
  mime: string;
  title: string;
  provenance: SignedGeneration;
  /** The picture this one was made from, if any (img2img, inpaint, outpaint, upscale). */
  parent: ParentIngredient | null;
  /**
   * The parent is this same picture's own signed library file and the export only added
   * provenance metadata: the export's manifest opens it, and its history stays in the ingredient.
   */
  parentIsLibraryCopy?: boolean;
  licence: { id: string; url: string } | null;
  generatorVersion: string;
}

const EDIT_MODES = new Set(['img2img', 'inpaint', 'outpaint', 'upscale']);

/** Whether the picture was made from another picture: the engine read a source's pixels. */
export function isEdit(params: Record<string, unknown>): boolean {
  return typeof params.initAssetId === 'string' || (typeof params.mode === 'string' && EDIT_MODES.has(params.mode));
}

/** The id of the library asset an edit started from, when the parameters name one. */
export function sourceAssetIdOf(params: Record<string, unknown>): string | null {
  for (const key of ['initAssetId', 'sourceAssetId', 'inputAssetId']) {
    const value = params[key];
    if (typeof value === 'string' && value) return value;
  }
  return null;
}

const PARENT_INGREDIENT_LABEL = 'parent';

const OTHER_TOOLS: Record<string, string> = { a1111: 'AUTOMATIC1111', comfyui: 'ComfyUI', invokeai: 'InvokeAI' };

function editKind(params: Record<string, unknown>): string {
  if (typeof params.mode === 'string') return params.mode;
  if (params.outpaint !== undefined) return 'outpaint';
  if (params.maskAssetId !== undefined) return 'inpaint';
  return 'img2img';
}

function actionsOf(input: SignInput): Record<string, unknown>[] {
  const p = input.provenance;
  const edited = (input.parent !== null && !input.parentIsLibraryCopy) || isEdit(p.params);
  const atelier = { name: 'Atelier', version: input.generatorVersion };
  if (input.parentIsLibraryCopy) {
    // The source type is repeated here so a reader that shows only the active manifest still
    // sees that a generative model made the picture; what was done is in the ingredient's manifest.
    const digitalSourceType = edited ? DIGITAL_SOURCE_TYPE.compositeWithTrainedAlgorithmicMedia : DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia;
    return [
      { action: 'c2pa.opened', digitalSourceType, softwareAgent: atelier, parameters: { ingredientIds: [PARENT_INGREDIENT_LABEL] } },
      { action: 'c2pa.edited.metadata', softwareAgent: atelier, description: 'provenance metadata embedded for export' },
    ];
  }
  // A picture imported from another tool was made by that tool; Atelier only signs the export.
  const madeBy = typeof p.params.source === 'string' && p.params.source !== 'atelier' ? OTHER_TOOLS[p.params.source] : undefined;
  const softwareAgent = madeBy ? { name: madeBy } : atelier;
  return edited
    ? [
        ...(input.parent ? [{ action: 'c2pa.opened', parameters: { ingredientIds: [PARENT_INGREDIENT_LABEL] } }] : [{ action: 'c2pa.created', digitalSourceType: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia, softwareAgent }]),
        { action: 'c2pa.edited', digitalSourceType: DIGITAL_SOURCE_TYPE.compositeWithTrainedAlgorithmicMedia, softwareAgent, description: editKind(p.params) },
      ]
    : [{ action: 'c2pa.created', digitalSourceType: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia, softwareAgent }];
}

function manifestOf(input: SignInput): Record<string, unknown> {
  const p = input.provenance;
  return {
    claim_generator_info: [{ name: 'Atelier', version: input.generatorVersion }],
    title: input.title,
    format: input.mime,
    assertions: [
      { label: 'c2pa.actions', data: { actions: actionsOf(input) } },
      {
        label: ATELIER_ASSERTION_LABEL,
        data: {
          generationId: p.id,
          kind: p.kind,
          model: p.model,
          modelDigest: p.modelDigest,
          licence: input.licence,
          prompt: p.prompt,
          negativePrompt: p.negativePrompt,
          seed: p.seed,
          params: p.params,
          provider: p.provider,
          parentId: p.parentId,
          created: p.created,
        },
      },
    ],
  };
}

export async function signWithCredentials(identity: SigningIdentity, input: SignInput): Promise<Buffer> {
  const sdk = await loadC2paSdk();
  const signer = sdk.LocalSigner.newSigner(Buffer.from(identity.chainPem), Buffer.from(identity.keyPem), identity.algorithm);
  // A thumbnail would add ~50 KB to every small picture and repeats what the file shows.
  const builder = sdk.Builder.withJson(manifestOf(input), { builder: { thumbnail: { enabled: false } } });
  if (input.parent) {
    const ingredient = {
      title: input.parent.title,
      format: input.parent.mime,
      relationship: 'parentOf',
      label: PARENT_INGREDIENT_LABEL,
      ...(input.parent.generationId ? { description: `Atelier generation ${input.parent.generationId}` } : {}),
    };
    await builder.addIngredient(JSON.stringify(ingredient), { buffer: Buffer.from(input.parent.bytes), mimeType: input.parent.mime });
  }
  const output: { buffer: Buffer | null } = { buffer: null };
  builder.sign(signer, { buffer: Buffer.from(input.bytes), mimeType: input.mime }, output);
  if (!output.buffer) throw new Error('unreachable: the C2PA SDK signed without writing the signed file');
  return output.buffer;
}
