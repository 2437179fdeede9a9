import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StudioError } from '../../shared/errors';
import { issueSigningIdentity } from './certificate';

/**
 * This installation's C2PA signing identity, kept beside the library in `<data>/credentials/`:
 * `signing-key.pem` (PKCS#8, mode 0600, like the hub token never world-readable),
 * `signing-chain.pem` (end-entity certificate + CA) and `ca.pem` (the CA alone, the trust anchor
 * that lets this installation call its own files "Trusted").
 *
 * Made on first use. A self-made certificate proves that a file was signed by this installation
 * and not changed since; it does not prove who the person is, since no outside authority vouched
 * for the name in it (so other validators report the signer as untrusted).
 */

export const CREDENTIALS_DIR = 'credentials';
const KEY_FILE = 'signing-key.pem';
const CHAIN_FILE = 'signing-chain.pem';
const CA_FILE = 'ca.pem';
/** Present when the person imported their own certificate (its content: when). */
const IMPORTED_MARKER = 'imported';

export type SigningAlgorithm = 'es256' | 'es384' | 'es512' | 'ps256' | 'ed25519';

export interface SigningIdentity {
  keyPem: string;
  chainPem: string;
  /** The anchor to trust this identity by; for an imported chain, its last certificate. */
  caPem: string;
  subject: string;
  issuer: string;
  validTo: string;
  /** True when Atelier made the certificate itself (nobody outside vouched for it). */
  selfIssued: boolean;
  algorithm: SigningAlgorithm;
}

/** The C2PA signing algorithm for a key: ECDSA by curve, RSA-PSS, or Ed25519. */
export function signingAlgorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'ps256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'es256';
    if (curve === 'secp384r1') return 'es384';
    if (curve === 'secp521r1') return 'es512';
  }
  throw new StudioError('INVALID_INPUT', `A ${key.asymmetricKeyType ?? 'unknown'} key cannot sign Content Credentials; use an ECDSA (P-256, P-384, P-521), RSA or Ed25519 key.`);
}

/** Every certificate of a PEM bundle, in order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((block) => `${block}\n`) ?? [];
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function describe(keyPem: string, chainPem: string, caPem: string, imported: boolean): SigningIdentity {
  const leaf = new X509Certificate(chainPem);
  return {
    keyPem,
    chainPem,
    caPem,
    subject: leaf.subject.replace(/\n/g, ', '),
    issuer: leaf.issuer.replace(/\n/g, ', '),
    validTo: new Date(leaf.validTo).toISOString(),
    selfIssued: !imported,
    algorithm: signingAlgorithmOf(createPrivateKey(keyPem)),
  };
}

/** Writes a file through a temporary name so a kill never leaves half a key. */
async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, text, { mode });
  await fs.rename(temp, file);
}

export async function loadSigningIdentity(dataDir: string): Promise<SigningIdentity | null> {
  const dir = path.join(dataDir, CREDENTIALS_DIR);
  const [keyPem, chainPem, caPem] = await Promise.all([KEY_FILE, CHAIN_FILE, CA_FILE].map((f) => readIfPresent(path.join(dir, f))));
  if (!keyPem || !chainPem || !caPem) return null;
  return describe(keyPem, chainPem, caPem, (await readIfPresent(path.join(dir, IMPORTED_MARKER))) !== null);
}

/** The installation's identity, made (once) if there is none yet. */
export async function ensureSigningIdentity(dataDir: string, now: Date = new Date()): Promise<SigningIdentity> {
  const existing = await loadSigningIdentity(dataDir);
  if (existing) return existing;
  const dir = path.join(dataDir, CREDENTIALS_DIR);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const host = os.hostname().replace(/[^\w.-]/g, '').slice(0, 40) || 'this computer';
  const issued = issueSigningIdentity({ commonName: `Atelier on ${host}`, organization: 'Atelier' }, now);
  // A marker left by an import that was killed half-way would call this new identity imported.
  await fs.rm(path.join(dir, IMPORTED_MARKER), { force: true });
  // Certificates first, key last: loadSigningIdentity needs all three, so a kill in between
  // makes a fresh identity next time rather than pairing a key with the wrong certificate.
  await writeAtomically(path.join(dir, CA_FILE), issued.caPem, 0o644);
  await writeAtomically(path.join(dir, CHAIN_FILE), issued.chainPem, 0o644);
  await writeAtomically(path.join(dir, KEY_FILE), issued.keyPem, 0o600);
  return describe(issued.keyPem, issued.chainPem, issued.caPem, false);
}

/**
 * Replaces the installation's identity with the person's own certificate chain (signer first,
 * then intermediates and, if they have it, the root) and its private key. The identity in use
 * is moved aside to `credentials/previous-<time>/`, never deleted: files signed with it stay
 * checkable against its CA.
 */
export async function importSigningIdentity(dataDir: string, chainPem: string, keyPem: string, now: Date = new Date()): Promise<SigningIdentity> {
  const certificates = splitPemCertificates(chainPem);
  if (certificates.length === 0) throw new StudioError('INVALID_INPUT', 'The certificate chain has no PEM certificate (-----BEGIN CERTIFICATE-----).');
  let key: KeyObject;
  let parsed: X509Certificate[];
  try {
    key = createPrivateKey(keyPem);
    parsed = certificates.map((pem) => new X509Certificate(pem));
  } catch (error) {
    throw new StudioError('INVALID_INPUT', `The certificate or key is not readable PEM (${error instanceof Error ? error.message : String(error)}).`);
  }
  const leaf = parsed[0]!;
  if (!leaf.checkPrivateKey(key)) throw new StudioError('INVALID_INPUT', 'The private key does not belong to the first certificate of the chain. Put the signing certificate first.');
  if (leaf.ca) throw new StudioError('INVALID_INPUT', 'The first certificate is a CA certificate; C2PA signs with an end-entity certificate (CA:FALSE).');
  for (const [index, cert] of parsed.slice(1).entries()) {
    if (!parsed[index]!.checkIssued(cert)) throw new StudioError('INVALID_INPUT', `Certificate ${index + 2} of the chain did not issue certificate ${index + 1}; list the chain from the signer up.`);
  }
  if (parsed.length === 1) throw new StudioError('INVALID_INPUT', 'Add the certificate of the CA that issued the signing certificate to the chain; C2PA does not accept a certificate on its own.');
  signingAlgorithmOf(key);
  const dir = path.join(dataDir, CREDENTIALS_DIR);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await loadSigningIdentity(dataDir);
  if (existing) {
    const aside = path.join(dir, `previous-${now.toISOString().replace(/[:.]/g, '-')}`);
    await fs.mkdir(aside, { mode: 0o700 });
    for (const file of [KEY_FILE, CHAIN_FILE, CA_FILE, IMPORTED_MARKER]) {
      await fs.rename(path.join(dir, file), path.join(aside, file)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }
  const normalizedKey = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const chain = certificates.join('');
  const anchor = certificates[certificates.length - 1]!;
  await writeAtomically(path.join(dir, IMPORTED_MARKER), `${now.toISOString()}\n`, 0o644);
  await writeAtomically(path.join(dir, CA_FILE), anchor, 0o644);
  await writeAtomically(path.join(dir, CHAIN_FILE), chain, 0o644);
  await writeAtomically(path.join(dir, KEY_FILE), normalizedKey, 0o600);
  return describe(normalizedKey, chain, anchor, true);
}

/**
 * The anchors this installation trusts when it reads credentials: its CA now and the CAs of the
 * identities it used before (kept in `previous-*`), so its older exports still read as trusted.
 */
export async function installationTrustAnchors(dataDir: string): Promise<string | undefined> {
  const dir = path.join(dataDir, CREDENTIALS_DIR);
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const files = [path.join(dir, CA_FILE), ...entries.filter((e) => e.isDirectory() && e.name.startsWith('previous-')).map((e) => path.join(dir, e.name, CA_FILE))];
  const anchors = (await Promise.all(files.map(readIfPresent))).filter((pem): pem is string => pem !== null);
  return anchors.length ? anchors.join('') : undefined;
}
