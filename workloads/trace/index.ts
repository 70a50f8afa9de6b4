// The .dst trace format's public API: write (TraceWriter), read (openTrace), summarise (traceInfo),
// replay (traceWorkload), convert version 1 files (upgradeTrace), record a workload on a nominal
// clock (NominalRecorder) and infer a layout from addresses (LayoutInferrer). See format.ts for
// the file layout.

export { TraceWriter, type TraceSummary, type TraceWriterOptions } from "./writer.ts";
export { openTrace, type ChunkInfo, type OpenTraceOptions, type TraceReader } from "./reader.ts";
export { upgradeTrace, type UpgradeSummary } from "./upgrade.ts";
export { traceInfo, type TraceInfo } from "./info.ts";
export { traceWorkload } from "./workload.ts";
export { NominalRecorder, DEFAULT_NOMINAL_CLOCK, type NominalClock, type RecordOptions } from "./nominal-recorder.ts";
export { LayoutInferrer, DEFAULT_INFER_GAP, type InferLayoutOptions } from "./infer-layout.ts";
export { yieldToEventLoop } from "./atomic-file.ts";
export { DEFAULT_CHUNK_SIZE, FILE_EXTENSION, FORMAT_VERSION, type TraceHeader, type TraceHeaderInput } from "./format.ts";
