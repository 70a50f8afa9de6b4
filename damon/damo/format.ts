// Number formatting exactly as damo prints it (damo's _damo_fmt_str.py semantics, re-expressed):
// Python's '%d' truncation, '%.3f' with round-half-even on the exact binary value, sizes with
// strict '>' unit thresholds (so 1 MiB prints "1024.000 KiB"), times as "3.400 s" or
// "1 h 49 m 49.500 s", access frequencies in hz, and damo's percent formatting including its
// float artefacts (29 % prints "28 %"). `raw` selects damo's --raw_number output.

/** Python '%.{digits}f': correctly rounded, ties to even on the exact binary value. */
export function pyFixed(x: number, digits: number): string {
  const scale = 10 ** digits;
  const scaled = x * scale;
  if (Number.isFinite(scaled) && Math.abs(scaled) < 2 ** 52 && Math.abs(scaled % 1) === 0.5) {
    // a tie (damo's values are integers over powers of two, so the product is exact): half to even
    const lo = Math.floor(scaled);
    const r = lo % 2 === 0 ? lo : lo + 1;
    return (r / scale).toFixed(digits);
  }
  return x.toFixed(digits);
}

/** Python '%d' of a number: truncation toward zero. */
export const pyInt = (x: number): number => Math.trunc(x);

/** damo format_nr: thousands separators, truncated. */
export function formatNr(n: number, raw = false): string {
  const v = pyInt(n);
  if (raw) return String(v);
  const s = String(Math.abs(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return v < 0 ? `-${s}` : s;
}

const SZ_UNITS: Array<[number, string]> = [
  [2 ** 60, "EiB"],
  [2 ** 50, "PiB"],
  [2 ** 40, "TiB"],
  [2 ** 30, "GiB"],
  [2 ** 20, "MiB"],
  [2 ** 10, "KiB"],
];

/** damo format_sz: '%.3f <unit>' above each power of 1024 (strictly), else '<n> B'. */
export function formatSz(bytes: number, raw = false): string {
  if (raw) return String(pyInt(bytes));
  if (bytes === 2 ** 64 - 1) return "max";
  const neg = bytes < 0;
  const b = Math.abs(bytes);
  for (const [u, name] of SZ_UNITS) if (b > u) return `${neg ? "-" : ""}${pyFixed(b / u, 3)} ${name}`;
  return `${neg ? "-" : ""}${pyInt(b)} B`;
}

const NS_US = 1e3, NS_MS = 1e6, NS_S = 1e9, NS_M = 60e9, NS_H = 3600e9;

/** damo format_time_ns. */
export function formatTimeNs(ns: number, raw = false): string {
  if (raw) return String(pyInt(ns));
  if (ns < 0) return `-${formatTimeNs(-ns)}`;
  if (ns >= NS_H) {
    const h = Math.floor(ns / NS_H);
    const rest = ns - h * NS_H;
    return rest === 0 ? `${h} h` : `${h} h ${formatTimeNs(rest)}`;
  }
  if (ns >= NS_M) {
    const m = Math.floor(ns / NS_M);
    const rest = ns - m * NS_M;
    if (rest === 0) return `${m} m`;
    if (rest % NS_S === 0) return `${m} m ${rest / NS_S} s`;
    return `${m} m ${pyFixed(rest / NS_S, 3)} s`;
  }
  for (const [unit, name] of [[NS_S, "s"], [NS_MS, "ms"], [NS_US, "us"]] as const) {
    if (ns >= unit) return ns % unit === 0 ? `${ns / unit} ${name}` : `${pyFixed(ns / unit, 3)} ${name}`;
  }
  return `${pyInt(ns)} ns`;
}

export const formatTimeUs = (us: number, raw = false): string => (raw ? String(pyInt(us)) : formatTimeNs(us * 1000));

/** damo format_hz. */
export function formatHz(hz: number, raw = false): string {
  if (raw) return hz.toFixed(6);
  if (hz < 10 && hz !== 0) return `${pyFixed(hz, 3)} hz`;
  return `${formatNr(hz)} hz`;
}

/** damo format_percent (via format_ratio), with the same double arithmetic. */
export function formatPercent(p: number, raw = false): string {
  if (raw) return p.toFixed(6);
  const r = p / 100;
  const o = pyInt(r * 100);
  const u = (r * 100) % 1;
  const s = pyFixed(u, 7).replace(/0+$/, "").slice(2);
  return s === "" ? `${formatNr(o)} %` : `${o}.${s} %`;
}
