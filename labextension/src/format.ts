// Numbers as the footer and the status bar write them: the same rules as
// the kernel's notes (the Go package human), checked against the same table
// of cases (human/testdata/figures.json, by test/format.test.mjs), so the
// footer and the note never write one figure two ways.

/** v in tenths, rounded half up: floor(v*10 + 0.5), as human.tenths. */
function tenths(v: number): number {
  const max = 2 ** 53;
  return Math.floor(Math.max(Math.min(v * 10 + 0.5, max), -max));
}

/** "23.5" for 235 tenths, "16" for 160. */
function tenthsText(t: number): string {
  const sign = t < 0 ? '-' : '';
  const a = Math.abs(t);
  const whole = String(Math.floor(a / 10));
  return a % 10 === 0 ? sign + whole : `${sign}${whole}.${a % 10}`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** "0.4s", "12s", "1m 12s", "1h 04m", "2d 03h" (rounded down above a second). */
export function duration(seconds: number): string {
  const s = seconds;
  if (!(s > 0)) {
    return '0s';
  }
  if (s < 1) {
    const t = tenths(s);
    return t <= 0 ? '0s' : t >= 10 ? '1s' : `0.${t}s`;
  }
  const n = Math.floor(Math.min(s, 1e15));
  if (n < 60) {
    return `${n}s`;
  }
  if (n < 3600) {
    return `${Math.floor(n / 60)}m ${two(n % 60)}s`;
  }
  if (n < 86400) {
    return `${Math.floor(n / 3600)}h ${two(Math.floor((n % 3600) / 60))}m`;
  }
  return `${Math.floor(n / 86400)}d ${two(Math.floor((n % 86400) / 3600))}h`;
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** "512 B", "3.2 GiB", "23.5 GiB", "16 GiB". */
export function bytes(n: number): string {
  const b = Math.max(0, Math.floor(n));
  if (b < 1024) {
    return `${b} B`;
  }
  let v = b;
  let i = -1;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  let t = tenths(v);
  if (t >= 10240 && i < UNITS.length - 1) {
    t = tenths(v / 1024);
    i++;
  }
  return `${tenthsText(t)} ${UNITS[i]}`;
}

/** "8.8 %", "80 %" for a fraction. */
export function percent(f: number): string {
  if (!Number.isFinite(f)) {
    return '? %';
  }
  return `${tenthsText(tenths(f * 100))} %`;
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
