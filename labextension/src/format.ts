// Numbers as the footer and the status bar write them.

/** "12s", "1m 12s", "1h 04m". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  }
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** "512 B", "3.2 GiB", "16 GiB". */
export function bytes(n: number): string {
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) {
    return `${Math.round(v)} B`;
  }
  const text = v >= 10 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);
  return `${text} ${UNITS[i]}`;
}

/** "14:32" for a time today, "Tue 14:32" later. */
export function clock(at: Date, now: Date = new Date()): string {
  const hm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  if (at.toDateString() === now.toDateString()) {
    return hm;
  }
  return `${at.toLocaleDateString(undefined, { weekday: 'short' })} ${hm}`;
}

/** The colour class of a share of the limit, from memory_fraction. */
export function level(used: number, limit: number, fraction: number): 'ok' | 'warn' | 'high' {
  if (limit <= 0) {
    return 'ok';
  }
  const share = used / limit;
  const f = fraction > 0 && fraction <= 1 ? fraction : 0.8;
  if (share >= f) {
    return 'high';
  }
  return share >= f * 0.75 ? 'warn' : 'ok';
}
