import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * X.509 certificates for C2PA signing, written with node:crypto and a small DER encoder (Node can
 * parse certificates but not issue them, and OpenSSL is not on every user's machine).
 *
 * The C2PA certificate profile asks for: version 3, a CA that is not the signer, an end-entity
 * certificate with basicConstraints CA:FALSE, keyUsage digitalSignature (critical), an extended
 * key usage other than anyExtendedKeyUsage (we use emailProtection, which every C2PA validator
 * accepts), and subject/authority key identifiers.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const octets = (data: Buffer): Buffer => tlv(0x04, data);
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 + n, content);
const bitString = (data: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), data);
const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0]));

function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1]! & 0x80) === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const part of parts.slice(2)) {
    const base128: number[] = [];
    for (let v = part; ; v = Math.floor(v / 128)) {
      base128.unshift((v % 128) | (base128.length ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  emailProtection: '1.3.6.1.5.5.7.3.4',
} as const;

export interface DistinguishedName {
  commonName: string;
  organization: string;
}

function name(dn: DistinguishedName): Buffer {
  return sequence(set(sequence(oid(OID.organization), utf8(dn.organization))), set(sequence(oid(OID.commonName), utf8(dn.commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octets(value)) : sequence(oid(id), octets(value));
}

/** The key identifier of RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spkiDer: Buffer): Buffer {
  // An EC P-256 SubjectPublicKeyInfo ends with the 65-byte uncompressed point.
  return createHash('sha1').update(spkiDer.subarray(spkiDer.length - 65)).digest();
}

interface IssueInput {
  subject: DistinguishedName;
  subjectKey: KeyObject;
  issuer: DistinguishedName;
  issuerKey: KeyObject;
  issuerPublicKey: KeyObject;
  isCa: boolean;
  notBefore: Date;
  notAfter: Date;
}

function issue(input: IssueInput): string {
  const spki = input.subjectKey.export({ type: 'spki', format: 'der' });
  const issuerSpki = input.issuerPublicKey.export({ type: 'spki', format: 'der' });
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const extensions = input.isCa
    ? [
        extension(OID.basicConstraints, true, sequence(boolean(true), integer(Buffer.from([0])))),
        // keyCertSign and cRLSign (bits 5 and 6).
        extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
        extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(spki))),
      ]
    : [
        extension(OID.basicConstraints, true, sequence()),
        // digitalSignature (bit 0).
        extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
        extension(OID.extendedKeyUsage, false, sequence(oid(OID.emailProtection))),
        extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(spki))),
        extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, keyIdentifier(issuerSpki)))),
      ];
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name(input.issuer),
    sequence(time(input.notBefore), time(input.notAfter)),
    name(input.subject),
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, input.issuerKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  return toPem('CERTIFICATE', der);
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface IssuedIdentity {
  /** PKCS#8 PEM of the signing (end-entity) key. */
  keyPem: string;
  /** The end-entity certificate followed by its CA, as C2PA signers expect. */
  chainPem: string;
  /** The CA certificate alone: the trust anchor that makes this installation's files "Trusted". */
  caPem: string;
}

/**
 * A CA and an end-entity certificate signed by it, both ES256 (P-256). The CA's private key is
 * used once and dropped: nobody, including a thief of the data folder, can issue more
 * certificates under this installation's CA.
 */
export function issueSigningIdentity(subject: DistinguishedName, now: Date = new Date(), years = 10): IssuedIdentity {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const caName: DistinguishedName = { commonName: `${subject.commonName} CA`, organization: subject.organization };
  const caPem = issue({ subject: caName, subjectKey: ca.publicKey, issuer: caName, issuerKey: ca.privateKey, issuerPublicKey: ca.publicKey, isCa: true, notBefore, notAfter });
  const signerPem = issue({ subject, subjectKey: signer.publicKey, issuer: caName, issuerKey: ca.privateKey, issuerPublicKey: ca.publicKey, isCa: false, notBefore, notAfter });
  // Parse both back: a mistake in the encoder fails here, not in a user's exported file.
  const caCert = new X509Certificate(caPem);
  if (!new X509Certificate(signerPem).verify(caCert.publicKey)) throw new Error('unreachable: the issued certificate does not verify against its CA');
  return {
    keyPem: signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    chainPem: signerPem + caPem,
    caPem,
  };
}
