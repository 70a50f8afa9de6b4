// ARM SPE as a DAMON primitive: every CPU samples one op per interval (with jitter); sampled loads
// and stores that pass the type and latency filters become records in the CPU's aux buffer, and
// each watermark interrupt reports its batch through damon_report_access() (address, size, CPU,
// thread, read/write) in interrupt context (hw/primitives/spe.ts; core-and-devices.md 5). A record
// lost to a full aux buffer counts as a report made and dropped. The sampler joins the machine's
// access path when kdamond starts and leaves it when kdamond stops. SPE exists on Arm cores (the
// neoverse-v2 preset); on another machine it models what SPE would report there.

import { SPE_DEFAULTS, SpeSampler, type SpeOptions } from "../../hw/primitives/spe.ts";
import { SAMPLER_LIFECYCLE, type PrimitiveDef } from "./types.ts";

const d = SPE_DEFAULTS;
const S33 = "core-and-devices.md 5 [S33]";

export const spe = {
  name: "spe",
  summary: "ARM SPE: one op per interval (jittered) sampled per CPU; loads/stores above minLatency become aux-buffer records, reported in batches at each watermark interrupt with addresses, CPU, thread and latency",
  reports: true,
  sample: "none",
  evidence: "spe-reported",
  params: {
    interval: { type: "integer", unit: "ops", default: d.interval, source: `perf's default period, caps/min_interval, 4096 when not advertised (${S33}: arm-spe.c, arm_spe_pmu.c)`, help: "ops between samples (PMSIRR.INTERVAL): a multiple of 256 in [256, 0xFFFFFF00]" },
    jitter: { type: "boolean", unit: null, default: d.jitter, source: `perf's documented default (PMSIRR.RND, ${S33})`, help: "randomize the low 8 bits of each reload (interval + 0..255)" },
    loads: { type: "boolean", unit: null, default: d.loads, source: `load_filter, as perf mem on Arm sets it (${S33})`, help: "keep sampled loads (PMSFCR.LD)" },
    stores: { type: "boolean", unit: null, default: d.stores, source: `store_filter, as perf mem on Arm sets it (${S33})`, help: "keep sampled stores (PMSFCR.ST); loads and stores both off: no type filter, every sampled op is recorded" },
    minLatency: { type: "integer", unit: "cycles", default: d.minLatency, source: `off unless min_latency is given (PMSFCR.FL, ${S33})`, help: "keep ops with a total latency of at least this many cycles (PMSLATFR.MINLAT, 0..4095; 0: off)", aliases: ["min_latency"] },
    recordBytes: { type: "integer", unit: "bytes", default: d.recordBytes, source: "an estimate: a load/store record's packets, padded (PMSIDR.MaxSize 16-2048 B, core-and-devices.md 5.3)", help: "bytes per record, a power of two in [16, 2048]" },
    auxBytes: { type: "integer", unit: "bytes", default: d.auxBytes, source: "perf's unprivileged AUX size; NMO's best 16-32 pages (core-and-devices.md 5.4-5.5 [S33, S36])", help: "aux buffer per CPU, a power of two >= 8 KiB" },
    watermarkBytes: { type: "integer", unit: "bytes", default: null, defaultText: "auxBytes / 2", source: "perf's aux_watermark when unset (kernel/events/ring_buffer.c; core-and-devices.md 5.4)", help: "bytes written between interrupts: a multiple of 4096 up to auxBytes" },
    irqCostNs: { type: "number", unit: "ns", default: d.irqCostNs, source: "an estimate: a PPI's entry, buffer sync and re-arm (core-and-devices.md 5.4, unverified)", help: "CPU time per buffer-management interrupt" },
    recordCostNs: { type: "number", unit: "ns", default: d.recordCostNs, source: "an estimate: decoding one record (unverified)", help: "CPU time per record delivered, the report's cost added" },
    irqDelayNs: { type: "number", unit: "ns", default: d.irqDelayNs, source: "our rule: the CPU model has no interrupt masking", help: "time from the watermark to the interrupt, during which a full buffer loses records" },
  },
  // 4x denser, like IBS's and perf mem's scenario periods (1024: Arm's recommended minimum, one
  // sample per 1024 micro-ops, core-and-devices.md 5.1 [S34]); perf's smallest buffer, 8 KiB, so a
  // batch is 64 records and batches reach DAMON about once per sample interval in the sparse
  // simulated workloads, as perf's default half-buffer (1024 records) fills about as often on a
  // real core at the default interval (derived: ~3e9 ops/s / 4096 x a third memory ops = 1250
  // records per 5 ms). With 256-record batches the tiering run's reports reach one check in five
  // and DAMON sees nothing hot (recall 0.00; 64-record batches: 0.96)
  scenarioParams: { interval: 1024, auxBytes: 8192 },
  filteredScenarios: true,
  install: (env): SpeSampler => new SpeSampler(env.machine, env.params, env.sink),
  ...SAMPLER_LIFECYCLE,
} as const satisfies PrimitiveDef<"spe", SpeOptions, SpeSampler>;
