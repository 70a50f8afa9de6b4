// Public surface of the sim/ layer: time, units, errors, the event queue and scheduler, actors,
// seeded randomness and statistics. sim/ imports nothing from the other layers.

export * from "./errors.ts";
export * from "./time.ts";
export * from "./units.ts";
export * from "./queue.ts";
export * from "./scheduler.ts";
export * from "./actor.ts";
export * from "./rng.ts";
export * from "./stats.ts";
