/**
 * Images and audio load by URL from asset ids, never by path. In Electron the asset:// protocol
 * resolves them; in browser mode the loopback server serves /asset/<id> and wants the run token.
 */
export function assetUrl(id: string): string {
  if (location.protocol.startsWith('http')) {
    const token = sessionStorage.getItem('atelier.token');
    const query = token ? `?token=${encodeURIComponent(token)}` : '';
    return `/asset/${encodeURIComponent(id)}${query}`;
  }
  return `asset://${encodeURIComponent(id)}`;
}
