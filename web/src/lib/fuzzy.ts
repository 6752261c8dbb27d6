/** A loose match: every character of the query in order ("bkd" finds "backends"). */
export function fuzzyScore(text: string, query: string): number {
  const hay = text.toLowerCase();
  const needle = query.toLowerCase().trim();
  if (!needle) return 1;
  const at = hay.indexOf(needle);
  if (at >= 0) return 100 - Math.min(at, 50);
  let pos = 0;
  for (const ch of needle) {
    pos = hay.indexOf(ch, pos);
    if (pos < 0) return 0;
    pos++;
  }
  return 10;
}
