import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function describe(keyPem: string, chainPem: string, caPem: string): SigningIdentity {
  const leaf = new X509Certificate(chainPem);
  const ca = new X509Certificate(caPem);
  return {
    keyPem,
    chainPem,
    caPem,
    subject: leaf.subject.replace(/\n/g, ', '),
    issuer: leaf.issuer.replace(/\n/g, ', '),
    validTo: new Date(leaf.validTo).toISOString(),
    selfIssued: ca.subject === leaf.issuer && ca.subject.includes('O=Atelier'),
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
  return describe(keyPem, chainPem, caPem);
}

/** The installation's identity, made (once) if there is none yet. */
export async function ensureSigningIdentity(dataDir: string, now: Date = new Date()): Promise<SigningIdentity> {
  const existing = await loadSigningIdentity(dataDir);
  if (existing) return existing;
  const dir = path.join(dataDir, CREDENTIALS_DIR);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const host = os.hostname().replace(/[^\w.-]/g, '').slice(0, 40) || 'this computer';
  const issued = issueSigningIdentity({ commonName: `Atelier on ${host}`, organization: 'Atelier' }, now);
  // Certificates first, key last: loadSigningIdentity needs all three, so a kill in between
  // makes a fresh identity next time rather than pairing a key with the wrong certificate.
  await writeAtomically(path.join(dir, CA_FILE), issued.caPem, 0o644);
  await writeAtomically(path.join(dir, CHAIN_FILE), issued.chainPem, 0o644);
  await writeAtomically(path.join(dir, KEY_FILE), issued.keyPem, 0o600);
  return describe(issued.keyPem, issued.chainPem, issued.caPem);
}
