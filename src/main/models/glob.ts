/**
 * Minimal glob matching for repository paths (always '/'-separated): `**` crosses folders, `*` and
 * `?` stay within one segment, `{a,b}` alternates. Enough for catalog file patterns; no negation.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more folders; a trailing `**` matches everything below.
        if (pattern[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) {
        out += '\\{';
        continue;
      }
      const options = pattern.slice(i + 1, end).split(',').map((o) => globToRegExp(o).source.slice(1, -1));
      out += `(?:${options.join('|')})`;
      i = end;
    } else {
      out += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

export function matchesAny(filePath: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globToRegExp(p).test(filePath));
}
