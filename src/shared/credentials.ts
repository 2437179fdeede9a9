import { z } from 'zod';

/**
 * What a file's C2PA Content Credentials say, as the library detail and the import show them.
 * `trusted`: signed, unchanged, and the signer chains to an anchor we trust (this installation's
 * own CA); `valid`: signed and unchanged, signer not vouched for; `invalid`: the file or the
 * manifest was changed after signing (or the signature is broken); `none`: no credentials.
 */
export const CredentialState = z.enum(['none', 'valid', 'trusted', 'invalid']);
export type CredentialState = z.infer<typeof CredentialState>;

export const CredentialAction = z.object({
  action: z.string(),
  digitalSourceType: z.string().nullable(),
  description: z.string().nullable(),
  softwareAgent: z.string().nullable(),
});
export type CredentialAction = z.infer<typeof CredentialAction>;

export const CredentialIngredient = z.object({
  title: z.string(),
  relationship: z.string(),
  format: z.string().nullable(),
  description: z.string().nullable(),
  /** Whether the ingredient carried credentials of its own. */
  hasCredentials: z.boolean(),
});
export type CredentialIngredient = z.infer<typeof CredentialIngredient>;

export const ContentCredentials = z.object({
  state: CredentialState,
  /** Common name and organisation of the signing certificate. */
  signer: z.string().nullable(),
  issuer: z.string().nullable(),
  /** The tool that wrote the manifest (claim generator). */
  generator: z.string().nullable(),
  actions: z.array(CredentialAction),
  ingredients: z.array(CredentialIngredient),
  /** Why it is not valid (or not trusted), in the validator's words. */
  problems: z.array(z.string()),
  /** Atelier's own assertion, when the file has one: the model and its licence. */
  model: z.string().nullable(),
  licence: z.string().nullable(),
});
export type ContentCredentials = z.infer<typeof ContentCredentials>;

export const NO_CREDENTIALS: ContentCredentials = {
  state: 'none',
  signer: null,
  issuer: null,
  generator: null,
  actions: [],
  ingredients: [],
  problems: [],
  model: null,
  licence: null,
};

export const AssetCredentials = z.object({ assetId: z.string(), mime: z.string(), credentials: ContentCredentials });
export type AssetCredentials = z.infer<typeof AssetCredentials>;

/** This installation's signing identity, as Settings shows it. */
export const SigningIdentityInfo = z.object({
  subject: z.string(),
  issuer: z.string(),
  validTo: z.string(),
  selfIssued: z.boolean(),
});
export type SigningIdentityInfo = z.infer<typeof SigningIdentityInfo>;
