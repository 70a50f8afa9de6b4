// Task inputs and outcomes as they travel through a queue: Node's structured-clone serialisation
// (v8.serialize, the algorithm worker threads use), base64 so it sits in a BullMQ job's JSON. A
// value comes back exactly as a local worker thread would hand it over, NaN, -0 and undefined
// fields included (JSON would turn the NaN of a heatmap cell into null), so a queued run's
// outputs are the same bytes as a local one's. Workers and coordinator need a Node of the same
// major version (the format is versioned; older data always reads).

import { deserialize, serialize } from "node:v8";

export const toWire = (value: unknown): string => serialize(value).toString("base64");

export const fromWire = <T>(text: string): T => deserialize(Buffer.from(text, "base64")) as T;
