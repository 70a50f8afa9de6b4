// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the one zlib and gzip use) over byte
// ranges, table driven with slicing-by-4. Node 20 has no zlib.crc32 (it arrived in 22.2), so the
// .dst trace format carries its own. CRC-32 detects every error burst of up to 32 bits, so any
// single flipped byte in a checksummed range is always caught.

const TABLES = makeTables();

function makeTables(): Int32Array {
  const t = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let s = 1; s < 4; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + n] = c;
    }
  }
  return t;
}

/**
 * CRC-32 of bytes[from, to), continuing from `crc` (the value returned for the preceding bytes;
 * 0 to start). Returns an unsigned 32-bit integer.
 */
export function crc32(bytes: Uint8Array, from = 0, to = bytes.length, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let i = from;
  const end4 = to - ((to - from) & 3);
  while (i < end4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
    i += 4;
  }
  while (i < to) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
