import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { issueSigningIdentity } from '../../../src/main/credentials/certificate';
import { CREDENTIALS_DIR, ensureSigningIdentity, importSigningIdentity, installationTrustAnchors, loadSigningIdentity, type SigningIdentity } from '../../../src/main/credentials/identity';
import { readCredentials } from '../../../src/main/credentials/read';
import { signWithCredentials } from '../../../src/main/credentials/sign';
import type { AtelierProvenance } from '../../../src/main/library-io/provenance';

const dirs: string[] = [];
function tempData(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-import-identity-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const provenance: AtelierProvenance = { version: 1, generator: 'Atelier', id: 'g1', kind: 'image', model: 'm', modelDigest: null, prompt: 'p', negativePrompt: '', seed: 1, params: {}, provider: null, parentId: null, lineage: [], created: '2026-12-05T00:00:00.000Z', createdAt: 0 };

async function signedPng(identity: SigningIdentity): Promise<Buffer> {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toBuffer();
  return signWithCredentials(identity, { bytes: png, mime: 'image/png', title: 't.png', provenance, parent: null, licence: null, generatorVersion: 'test' });
}

describe('importing a person’s own certificate', () => {
  it('signs with it from then on, keeps the previous identity aside, and still trusts files the previous one signed', async () => {
    const data = tempData();
    const before = await ensureSigningIdentity(data);
    const oldFile = await signedPng(before);
    const own = issueSigningIdentity({ commonName: 'Ada Painter', organization: 'Painter Studio' });

    const imported = await importSigningIdentity(data, own.chainPem, own.keyPem);
    expect(imported.selfIssued).toBe(false);
    expect(imported.subject).toContain('CN=Ada Painter');
    expect((await loadSigningIdentity(data))?.chainPem).toBe(own.chainPem);
    const aside = fs.readdirSync(path.join(data, CREDENTIALS_DIR)).filter((name) => name.startsWith('previous-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(data, CREDENTIALS_DIR, aside[0]!, 'signing-key.pem'), 'utf8')).toBe(before.keyPem);

    const anchors = await installationTrustAnchors(data);
    const newRead = await readCredentials(await signedPng(imported), 'image/png', { trustAnchorsPem: anchors });
    expect(newRead.state).toBe('trusted');
    expect(newRead.signer).toBe('Ada Painter');
    expect((await readCredentials(oldFile, 'image/png', { trustAnchorsPem: anchors })).state).toBe('trusted');
  });

  it('refuses a key that is not the signer’s, a chain without its CA, and a CA as signer, changing nothing', async () => {
    const data = tempData();
    const before = await ensureSigningIdentity(data);
    const own = issueSigningIdentity({ commonName: 'Ada Painter', organization: 'Painter Studio' });
    const other = issueSigningIdentity({ commonName: 'Someone Else', organization: 'Elsewhere' });
    const [leaf, ca] = own.chainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    await expect(importSigningIdentity(data, own.chainPem, other.keyPem)).rejects.toThrow(/does not belong to the first certificate/);
    await expect(importSigningIdentity(data, leaf!, own.keyPem)).rejects.toThrow(/Add the certificate of the CA/);
    await expect(importSigningIdentity(data, `${ca!}${leaf!}`, own.keyPem)).rejects.toThrow(/does not belong|CA certificate/);
    await expect(importSigningIdentity(data, `${leaf!}${other.caPem}`, own.keyPem)).rejects.toThrow(/did not issue/);
    expect((await loadSigningIdentity(data))?.keyPem).toBe(before.keyPem);
  });
});
