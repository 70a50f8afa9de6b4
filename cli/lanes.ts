// Runs jobs in worker threads on at most N concurrent lanes, in index order, and stops cleanly on
// Ctrl-C: the scheduling shared by the experiment and regression-check pools. While run() is
// going, SIGINT sets `interrupted`, terminates every tracked worker and starts nothing new.

import type { Worker } from "node:worker_threads";

export class WorkerLanes {
  interrupted = false;
  private readonly running = new Set<Worker>();

  /** Tracks a worker until it exits, so Ctrl-C can terminate it. */
  track(w: Worker): Worker {
    this.running.add(w);
    w.once("exit", () => this.running.delete(w));
    return w;
  }

  /** Runs job(i) for i in [0, count) with at most `lanes` at once; resolves when all are done or stopped. */
  async run(count: number, lanes: number, job: (i: number) => Promise<void>): Promise<void> {
    const onSig = (): void => {
      this.interrupted = true;
      for (const w of this.running) void w.terminate();
    };
    process.once("SIGINT", onSig);
    let next = 0;
    const all: Array<Promise<void>> = [];
    for (let l = 0; l < lanes; l++) {
      all.push((async () => {
        while (!this.interrupted && next < count) await job(next++);
      })());
    }
    try {
      await Promise.all(all);
    } finally {
      process.removeListener("SIGINT", onSig);
    }
  }
}
