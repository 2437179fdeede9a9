import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CREDENTIALS_DIR, ensureSigningIdentity, loadSigningIdentity } from '../../../src/main/credentials/identity';

const dirs: string[] = [];
function tempData(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-identity-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the installation signing identity', () => {
  it('is made once, kept with the data folder, and its key is readable by the owner only', async () => {
    const data = tempData();
    expect(await loadSigningIdentity(data)).toBeNull();
    const first = await ensureSigningIdentity(data);
    const again = await ensureSigningIdentity(data);
    expect(again.keyPem).toBe(first.keyPem);
    expect(again.chainPem).toBe(first.chainPem);
    const keyFile = path.join(data, CREDENTIALS_DIR, 'signing-key.pem');
    if (process.platform !== 'win32') expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.selfIssued).toBe(true);
  });

  it('issues an end-entity certificate the C2PA profile accepts, chained to a CA that is not itself', async () => {
    const identity = await ensureSigningIdentity(tempData(), new Date('2026-12-05T00:00:00Z'));
    const [leafPem, caPem] = identity.chainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const leaf = new X509Certificate(leafPem!);
    const ca = new X509Certificate(caPem!);
    expect(ca.toString()).toBe(new X509Certificate(identity.caPem).toString());
    expect(leaf.ca).toBe(false);
    expect(ca.ca).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.4']);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(leaf.validTo).getUTCFullYear()).toBe(2036);
    expect(leaf.checkPrivateKey(createPrivateKey(identity.keyPem))).toBe(true);
  });
});
