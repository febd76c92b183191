/** Header lookup on a raw RFC 5322 message: unfolds continuation lines, case-insensitive names. */
export function headers(raw: string): Map<string, string[]> {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const map = new Map<string, string[]>();
  for (const line of unfolded.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    map.set(name, [...(map.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return map;
}

export function header(raw: string, name: string): string | undefined {
  return headers(raw).get(name.toLowerCase())?.[0];
}

/** DKIM-Signature tags (`h`, `d`, `s`, ...), whitespace removed. */
export function dkimTags(value: string): Record<string, string> {
  return Object.fromEntries(
    value
      .replace(/\s+/g, '')
      .split(';')
      .filter(Boolean)
      .map((pair) => {
        const i = pair.indexOf('=');
        return [pair.slice(0, i), pair.slice(i + 1)];
      }),
  );
}
