/**
 * huggingface_hub's `filter_repo_objects`: keep a path when it matches one of `allow` (if given) and none of
 * `ignore`. Patterns are fnmatch globs on the whole path (`*` also crosses `/`), case-sensitive as on
 * POSIX; a pattern ending in `/` means everything under that folder.
 */
export function filterRepoPaths(paths: Iterable<string>, allow?: string | string[] | null, ignore?: string | string[] | null): string[] {
  const compile = (p: string | string[] | null | undefined): RegExp[] | null => {
    if (p === null || p === undefined) return null;
    return (typeof p === 'string' ? [p] : p).map((x) => fnmatchRegExp(x.endsWith('/') ? x + '*' : x));
  };
  const a = compile(allow);
  const i = compile(ignore);
  const out: string[] = [];
  for (const path of paths) {
    if (a !== null && !a.some((r) => r.test(path))) continue;
    if (i !== null && i.some((r) => r.test(path))) continue;
    out.push(path);
  }
  return out;
}

/** Python's `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`; everything else literal. */
export function fnmatchRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      re += '.*';
    } else if (ch === '?') {
      re += '.';
    } else if (ch === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) {
        re += '\\[';
      } else {
        let body = pattern.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        re += `[${body}]`;
        i = j;
      }
    } else {
      re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 's');
}
