// Runs `count` jobs on at most `lanes` concurrent lanes, in index order, until done or stopped:
// the scheduling loop shared by the experiment and regression-check worker pools.

export async function runLanes(count: number, lanes: number, stopped: () => boolean, run: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const all: Array<Promise<void>> = [];
  for (let l = 0; l < lanes; l++) {
    all.push((async () => {
      while (!stopped() && next < count) await run(next++);
    })());
  }
  await Promise.all(all);
}
