import { C2PA_PNG_CHUNK, readChunks } from '../../shared/png-chunks';

/**
 * The C2PA SDK (@contentauth/c2pa-node, a native module), loaded on first use: most runs of the
 * app never sign or read a credential, and a dynamic import works from both the ESM sources and
 * the CommonJS bundle. A platform without its native build fails here, with a message, instead of
 * at start-up.
 */
type Sdk = typeof import('@contentauth/c2pa-node');

let loading: Promise<Sdk> | null = null;

export function loadC2paSdk(): Promise<Sdk> {
  loading ??= import('@contentauth/c2pa-node').catch((error: unknown) => {
    loading = null;
    throw new Error(`Content Credentials are not available on this system: the C2PA library did not load (${error instanceof Error ? error.message : String(error)}).`);
  });
  return loading;
}

/** The IPTC digital source types C2PA uses for generative AI. */
export const DIGITAL_SOURCE_TYPE = {
  trainedAlgorithmicMedia: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
  compositeWithTrainedAlgorithmicMedia: 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia',
} as const;

/** Our own assertion: the model, its licence and the generation parameters. */
export const ATELIER_ASSERTION_LABEL = 'app.atelier.generation';

/** MIME types the SDK can embed a manifest in, among those Atelier exports. */
export const SIGNABLE_MIME = new Set(['image/png', 'image/jpeg', 'image/webp', 'audio/wav', 'audio/x-wav', 'audio/wave']);

/**
 * Whether a file carries a C2PA manifest store, valid or not (no validation, no SDK). Only PNG is
 * looked at: it is the only picture format the library stores.
 */
export function hasEmbeddedCredentials(bytes: Uint8Array, mime: string): boolean {
  if (mime !== 'image/png') return false;
  try {
    return readChunks(bytes).some((chunk) => chunk.type === C2PA_PNG_CHUNK);
  } catch {
    return false;
  }
}
