// JSON text parsing with file:line:column errors now lives in sim/json-text.ts (hw reads machine
// JSON with it too); this module re-exports it for the workloads that import it from here.

export { lineColumn, locateJsonError, parseJsonText } from "../sim/json-text.ts";
