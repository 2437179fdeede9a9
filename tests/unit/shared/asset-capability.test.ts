import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ASSET_CAPABILITY_STEP_MS, ASSET_CAPABILITY_TTL_MS, assetCapabilityQuery, checkAssetCapability, signAssetCapability } from '../../../src/shared/asset-capability';

const key = new Uint8Array(32).map((_, i) => i * 7);
const now = Date.UTC(2026, 5, 1, 10, 3, 0);
const check = (id: string, query: string, at: number) => checkAssetCapability(key, id, new URLSearchParams(query), at);

describe('asset capabilities', () => {
  it('are an HMAC-SHA256 of the id and expiry (the page signs, the server checks with the same bytes)', () => {
    const expected = createHmac('sha256', key).update(`atelier-asset\nabc\n1234`).digest('hex');
    expect(signAssetCapability(key, 'abc', 1234)).toBe(expected);
  });

  it('open their asset until they expire, then never again', () => {
    const query = assetCapabilityQuery(key, 'abc', now);
    const expires = Number(new URLSearchParams(query).get('exp'));
    expect(expires - now).toBeGreaterThanOrEqual(ASSET_CAPABILITY_TTL_MS);
    expect(check('abc', query, now)).toBe('ok');
    expect(check('abc', query, expires - 1)).toBe('ok');
    expect(check('abc', query, expires)).toBe('expired');
  });

  it('stay the same URL within a step, so elements and the cache are not churned', () => {
    expect(assetCapabilityQuery(key, 'abc', now)).toBe(assetCapabilityQuery(key, 'abc', now + 1000));
  });

  it('refuse another id, another key, a stretched expiry and garbage', () => {
    const query = assetCapabilityQuery(key, 'abc', now);
    expect(check('abd', query, now)).toBe('invalid');
    expect(checkAssetCapability(new Uint8Array(32), 'abc', new URLSearchParams(query), now)).toBe('invalid');
    const far = now + ASSET_CAPABILITY_TTL_MS + 2 * ASSET_CAPABILITY_STEP_MS;
    expect(check('abc', `exp=${far}&sig=${signAssetCapability(key, 'abc', far)}`, now)).toBe('invalid');
    expect(check('abc', '', now)).toBe('missing');
    expect(check('abc', 'exp=1e9&sig=zz', now)).toBe('invalid');
  });
});
