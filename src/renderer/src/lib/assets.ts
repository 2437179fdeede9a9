import { hexToBytes } from '@noble/hashes/utils';
import { assetCapabilityQuery } from '../../../shared/asset-capability';

/**
 * Images and audio load by URL from asset ids, never by path. In Electron the asset:// protocol
 * resolves them (the id sits in the path: hosts of standard schemes are case-folded). In browser
 * mode the loopback server serves /asset/<id> to a capability for that one asset — signed here
 * with the key the server sent over the authenticated WebSocket — and never to the run token, so
 * a copied image address opens one file for a while and nothing else.
 */
let capabilityKey: Uint8Array | null = null;

/** Called by the browser transport when the server says hello; unused in Electron. */
export function useAssetCapabilityKey(hexKey: string): void {
  capabilityKey = hexToBytes(hexKey);
}

export function assetUrl(id: string, now: number = Date.now()): string {
  if (capabilityKey) return `/asset/${encodeURIComponent(id)}?${assetCapabilityQuery(capabilityKey, id, now)}`;
  return `asset://library/${encodeURIComponent(id)}`;
}
