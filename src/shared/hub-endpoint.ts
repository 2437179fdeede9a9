/**
 * Which model hubs Atelier talks to. The access token is a credential for huggingface.co: any
 * other endpoint is a third party until the user says otherwise, so the endpoint rules live in one
 * place shared by the settings contract (what may be stored), the settings view (what it explains)
 * and the hub client (what it connects to).
 */
export const HUGGING_FACE_ORIGIN = 'https://huggingface.co';

/** Hosts that never leave this machine: plain http is allowed to them (local mirrors, tests). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Null when `raw` may be used as the hub endpoint; otherwise a sentence saying why not and what to do. */
export function hubEndpointProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not a URL; write the hub's address, for example ${HUGGING_FACE_ORIGIN}.`;
  }
  if (url.username || url.password) return 'The hub endpoint must not carry a user name or password; Atelier sends its own token where you allow it.';
  if (url.search || url.hash) return 'The hub endpoint must be a plain address without ?query or #fragment.';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return null;
    return `Plain http:// is refused for ${url.host}: anyone on the network path could read your downloads and your token. Use https://${url.host}${url.pathname === '/' ? '' : url.pathname} (plain http is accepted only for a hub on this machine, 127.0.0.1 or localhost).`;
  }
  return `The hub endpoint must be an https:// address, not ${url.protocol}.`;
}
