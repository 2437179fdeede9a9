/**
 * Repository file names come from the hub (or a mirror) and become paths on disk. They are checked
 * the same way on every platform, so a listing that is harmless on Linux cannot write outside the
 * download on Windows, nor a name Windows cannot open end up in a model folder someone copies there.
 */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
// Control characters (NUL included) and the characters Windows forbids in names; `\` and `:` are the
// separators and drive/stream markers of Windows paths.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\:*?"<>|]/;

/** Null when `name` is a safe relative path of `/`-separated segments; otherwise why it is refused. */
export function hubPathProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name.length > 1024) return 'the name is too long';
  if (FORBIDDEN_CHARS.test(name)) return 'it contains a backslash, a colon, a control character or a character Windows forbids';
  if (name.startsWith('/')) return 'it is an absolute path';
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return 'it has an empty, "." or ".." segment';
    if (/[. ]$/.test(segment)) return 'a segment ends with a dot or a space (Windows would silently rename it)';
    if (WINDOWS_RESERVED.test(segment)) return `"${segment}" is a name Windows reserves`;
  }
  return null;
}

/** A name that is safe, for the error message: control characters shown as escapes. */
export function printableName(name: string): string {
  return JSON.stringify(name).slice(1, -1);
}
