import { z } from 'zod';
import { NO_CREDENTIALS, type ContentCredentials, type CredentialState } from '../../shared/credentials';
import { ATELIER_ASSERTION_LABEL, loadC2paSdk } from './sdk';

/**
 * Reads and validates a file's C2PA manifest store with the SDK. The SDK's JSON is untyped, so
 * only the fields shown are taken, each checked; anything else in it is ignored.
 */

const text = z.string().nullish().catch(null);

const ReaderJson = z.object({
  active_manifest: z.string().optional(),
  validation_state: z.string().optional(),
  validation_status: z.array(z.object({ code: z.string(), explanation: text })).optional(),
  manifests: z.record(
    z.string(),
    z.object({
      claim_generator: text,
      claim_generator_info: z.array(z.object({ name: z.string(), version: text })).nullish().catch(null),
      signature_info: z.object({ issuer: text, common_name: text }).nullish().catch(null),
      assertions: z.array(z.object({ label: z.string(), data: z.unknown() })).nullish().catch(null),
      ingredients: z
        .array(z.object({ title: text, relationship: text, format: text, description: text, active_manifest: text }))
        .nullish()
        .catch(null),
    }),
  ),
});

const Actions = z.object({
  actions: z.array(
    z.object({
      action: z.string(),
      digitalSourceType: text,
      description: text,
      softwareAgent: z.union([z.string(), z.object({ name: z.string(), version: text })]).nullish().catch(null),
    }),
  ),
});

const AtelierAssertion = z.object({ model: text, licence: z.object({ id: z.string(), url: z.string() }).nullish().catch(null) });

function stateOf(validationState: string | undefined): CredentialState {
  if (validationState === 'Trusted') return 'trusted';
  if (validationState === 'Valid') return 'valid';
  return 'invalid';
}

export interface ReadOptions {
  /** PEM certificates whose signers count as trusted (this installation's CA). */
  trustAnchorsPem?: string;
}

export async function readCredentials(bytes: Uint8Array, mime: string, opts: ReadOptions = {}): Promise<ContentCredentials> {
  const sdk = await loadC2paSdk();
  const settings = opts.trustAnchorsPem
    ? sdk.settingsToJson(sdk.mergeSettings(sdk.createTrustSettings({ verifyTrustList: true, trustAnchors: opts.trustAnchorsPem }), sdk.createVerifySettings({ verifyTrust: true })))
    : undefined;
  let reader;
  try {
    reader = await sdk.Reader.fromAsset({ buffer: Buffer.from(bytes), mimeType: mime }, settings);
  } catch (error) {
    // A manifest is there but cannot be parsed or its structure is broken: that is not "none".
    const message = error instanceof Error ? error.message : String(error);
    if (/JumbfNotFound|no JUMBF|ManifestNotFound|not found/i.test(message)) return NO_CREDENTIALS;
    if (/UnsupportedType|unsupported/i.test(message)) return NO_CREDENTIALS;
    return { ...NO_CREDENTIALS, state: 'invalid', problems: [message] };
  }
  if (!reader) return NO_CREDENTIALS;
  const store = ReaderJson.parse(reader.json());
  const active = store.active_manifest ? store.manifests[store.active_manifest] : undefined;
  if (!active) return { ...NO_CREDENTIALS, state: 'invalid', problems: ['The file has Content Credentials but no active manifest.'] };
  const state = stateOf(store.validation_state);
  const assertions = active.assertions ?? [];
  const actions = assertions
    .filter((a) => a.label === 'c2pa.actions' || a.label.startsWith('c2pa.actions.'))
    .flatMap((a) => Actions.safeParse(a.data).data?.actions ?? [])
    .map((a) => ({
      action: a.action,
      digitalSourceType: a.digitalSourceType ?? null,
      description: a.description ?? null,
      softwareAgent: typeof a.softwareAgent === 'string' ? a.softwareAgent : a.softwareAgent ? `${a.softwareAgent.name}${a.softwareAgent.version ? ` ${a.softwareAgent.version}` : ''}` : null,
    }));
  const atelier = AtelierAssertion.safeParse(assertions.find((a) => a.label === ATELIER_ASSERTION_LABEL)?.data).data;
  const generatorInfo = active.claim_generator_info?.[0];
  const problems = (store.validation_status ?? [])
    // An untrusted signer is what "valid" already says; listing it again as a problem would alarm.
    .filter((s) => !(state === 'valid' && s.code === 'signingCredential.untrusted'))
    .map((s) => s.explanation ?? s.code);
  return {
    state,
    signer: active.signature_info?.common_name ?? null,
    issuer: active.signature_info?.issuer ?? null,
    generator: generatorInfo ? `${generatorInfo.name}${generatorInfo.version ? ` ${generatorInfo.version}` : ''}` : (active.claim_generator ?? null),
    actions,
    ingredients: (active.ingredients ?? []).map((i) => ({
      title: i.title ?? 'untitled',
      relationship: i.relationship ?? 'componentOf',
      format: i.format ?? null,
      description: i.description ?? null,
      hasCredentials: Boolean(i.active_manifest),
    })),
    problems,
    model: atelier?.model ?? null,
    licence: atelier?.licence ? `${atelier.licence.id} (${atelier.licence.url})` : null,
  };
}
