/**
 * Images and audio load by URL from asset ids, never by path. In Electron the asset:// protocol
 * resolves them (the id sits in the path: hosts of standard schemes are case-folded); in browser
 * mode — recognised by the run token the WebSocket shim keeps — the loopback server serves
 * /asset/<id> and wants that token.
 */
export function assetUrl(id: string): string {
  const token = sessionStorage.getItem('atelier.token');
  if (token) return `/asset/${encodeURIComponent(id)}?token=${encodeURIComponent(token)}`;
  return `asset://library/${encodeURIComponent(id)}`;
}
