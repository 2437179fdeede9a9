import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * Browser mode's asset URLs carry a capability for one asset until a time: an HMAC of the id and
 * the expiry under a key the server gives its own page over the authenticated WebSocket. A copied
 * image address or a dragged link opens that one file for a while, never the library or the API.
 * The same code signs (in the page, synchronously, so `assetUrl` stays a plain function for
 * templates) and checks (in the server).
 */
export const ASSET_CAPABILITY_TTL_MS = 30 * 60_000;
/** Expiries are rounded up to this step, so an element's URL (and the browser's cache of it) stays stable for a while. */
export const ASSET_CAPABILITY_STEP_MS = 10 * 60_000;

export type AssetCapabilityVerdict = 'ok' | 'missing' | 'expired' | 'invalid';

export function assetCapabilityExpiry(now: number): number {
  return Math.ceil((now + ASSET_CAPABILITY_TTL_MS) / ASSET_CAPABILITY_STEP_MS) * ASSET_CAPABILITY_STEP_MS;
}

export function signAssetCapability(key: Uint8Array, id: string, expires: number): string {
  return bytesToHex(hmac(sha256, key, utf8ToBytes(`atelier-asset\n${id}\n${expires}`)));
}

/** The query string (without `?`) of a capability for `id`, valid from `now` for at least the TTL. */
export function assetCapabilityQuery(key: Uint8Array, id: string, now: number): string {
  const expires = assetCapabilityExpiry(now);
  return `exp=${expires}&sig=${signAssetCapability(key, id, expires)}`;
}

function equalInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/**
 * Whether `params` (the asset URL's query) hold a valid capability for `id` at `now`. An expiry
 * further out than any the page mints is refused too, so no link outlives the TTL by much.
 */
export function checkAssetCapability(key: Uint8Array, id: string, params: URLSearchParams, now: number): AssetCapabilityVerdict {
  const exp = params.get('exp');
  const sig = params.get('sig');
  if (exp === null || sig === null) return 'missing';
  if (!/^\d{1,15}$/.test(exp) || !/^[0-9a-f]{64}$/.test(sig)) return 'invalid';
  const expires = Number(exp);
  if (!equalInConstantTime(signAssetCapability(key, id, expires), sig)) return 'invalid';
  if (expires <= now) return 'expired';
  if (expires > now + ASSET_CAPABILITY_TTL_MS + ASSET_CAPABILITY_STEP_MS) return 'invalid';
  return 'ok';
}
