/** Levenshtein distance, two rows, no allocation per cell. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/**
 * The candidates closest to `word`, best first: a candidate qualifies when its edit distance is at most
 * a third of the longer string, or when one contains the other (a missing suffix such as `Algorithm`).
 */
export function closestMatches(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = word.toLowerCase();
  const scored: { c: string; d: number; full: number }[] = [];
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const last = lc.slice(lc.lastIndexOf('.') + 1);
    const wl = w.slice(w.lastIndexOf('.') + 1);
    let d = Math.min(editDistance(w, lc), editDistance(wl, last) + (w.includes('.') ? 1 : 0));
    if (wl.length >= 4 && (last.startsWith(wl) || wl.startsWith(last))) d = 0;
    else if (wl.length >= 4 && (last.includes(wl) || wl.includes(last))) d = Math.min(d, 1);
    const bound = Math.max(2, Math.floor(Math.max(w.length, lc.length) / 3));
    if (d <= bound) scored.push({ c, d, full: editDistance(w, lc) });
  }
  scored.sort((x, y) => x.d - y.d || x.full - y.full || x.c.localeCompare(y.c));
  return scored.slice(0, limit).map((s) => s.c);
}
