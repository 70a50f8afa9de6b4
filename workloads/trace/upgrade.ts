// upgradeTrace: rewrites a .dst trace (version 1, or 2 again) as version 2. The header and footer
// records and every chunk payload are kept byte for byte (no re-encoding, so the compression and
// the chunk boundaries stay), and each chunk is decoded and checked on the way; the new file gets
// sequence numbers, header-seeded CRCs and the whole-file digest. The output is written
// atomically (atomic-file.ts): a damaged input or an interrupt leaves no output file, and the
// output may be the input itself (the reader keeps its open file through the rename).

import { AccessBatch } from "../../hw/batch.ts";
import { InputError } from "../../sim/errors.ts";
import { AtomicFile } from "./atomic-file.ts";
import type { FooterRecord } from "./format.ts";
import { openTrace } from "./reader.ts";
import { FrameWriter } from "./writer.ts";

export interface UpgradeSummary {
  input: string;
  output: string;
  /** Format version of the input ("1.0", "2.0"). */
  from: string;
  chunks: number;
  accesses: number;
  /** Sizes in bytes. */
  inputBytes: number;
  outputBytes: number;
  /** SHA-256 of the new file's contents before the footer, as the footer records it. */
  sha256: string;
}

export function upgradeTrace(input: string, output: string): UpgradeSummary {
  let frames: FrameWriter | null = null;
  const reader = openTrace(input, {
    notice: () => {},
    onChunk: (accesses, payload) => frames!.chunk(accesses, payload),
  });
  let file: AtomicFile | null = null;
  try {
    file = AtomicFile.create(output);
    frames = new FrameWriter(file);
    frames.header(reader.headerRecord);
    const batch = new AccessBatch(reader.headerRecord.chunkSize);
    while (reader.next(batch) > 0);
    const f = reader.footerRecord;
    const extra: Pick<FooterRecord, "layout" | "threads"> = {};
    if (f.layout !== undefined) extra.layout = f.layout;
    if (f.threads !== undefined) extra.threads = f.threads;
    frames.end(extra);
    file.commit();
  } catch (e) {
    file?.abort();
    throw e instanceof InputError && e.location.file === undefined ? e.within({ file: output }) : e;
  } finally {
    reader.close();
  }
  const check = openTrace(output);
  check.close();
  return {
    input,
    output,
    from: reader.header.formatVersion,
    chunks: frames.chunks,
    accesses: frames.accesses,
    inputBytes: reader.fileBytes,
    outputBytes: check.fileBytes,
    sha256: check.header.sha256!,
  };
}
