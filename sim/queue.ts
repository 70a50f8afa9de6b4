// The future-event list, ordered by (time, priority, insertion sequence): equal-time events come
// out by ascending priority number, and equal-time equal-priority events in the order they were
// scheduled (FIFO). Event times must never be earlier than the last popped event's time (the
// scheduler guarantees this: nothing is scheduled in the past).
//
// Structure: a ladder queue (Tang, Goh & Thng, ACM TOMACS 2005) on typed arrays. It costs O(1)
// amortised per event, where a heap pays O(log n) cache misses (a 4-ary heap measured 3.5 M
// hold operations/s at 10^5 pending here, this queue over 10 M/s):
//   * Top: an unsorted list of far-future events (time >= topStart), with their min and max.
//   * Rungs: up to 8 levels of time buckets. When the queue needs near-future events, Top is spread
//     into a rung of buckets (about 4 events each; widths are powers of two so bucket arithmetic is
//     exact); a bucket too full to sort cheaply is spread into a finer child rung. A new event at or
//     after a rung's current bucket goes straight into its bucket, in O(1).
//   * Bottom: a sorted array of the events due soonest, with their times and keys copied inline.
// Each event lives in a 32-byte slot (time, key = priority * 2^45 + sequence, target, arg,
// generation, list link) in one ArrayBuffer, so touching an event costs one cache line. Buckets
// and Top are singly linked lists through the slots. A handle is gen * 2^26 + slot; the slot's
// generation moves on when its event fires or is cancelled, so a handle is pending exactly while
// the generations match. Cancelling is lazy: the slot's target becomes a tombstone, recycled when
// the queue reaches it; when tombstones outnumber live events the queue is rebuilt, so memory
// stays proportional to pending events.

import { SimError } from "./errors.ts";

const SEQ_LIMIT = 2 ** 45;
const SLOT_LIMIT = 2 ** 26;
const GEN_LIMIT = 2 ** 27;
export const MAX_PRIORITY = 255;
/** Bytes per event slot: time and key (f64), target, arg, generation and link (i32). */
export const QUEUE_BYTES_PER_SLOT = 32;

const MAX_RUNGS = 8;
/** A bucket with more events than this is spread into a finer rung instead of being sorted. */
const BUCKET_SORT_LIMIT = 48;
const EVENTS_PER_BUCKET = 4;
/** Target of a cancelled event still linked in the structure. */
const TOMBSTONE = -0x80000000;

export class EventQueue {
  // slots: F[4s] time, F[4s+1] key; I[8s+4] target, I[8s+5] arg, I[8s+6] gen, I[8s+7] next
  private F: Float64Array;
  private I: Int32Array;
  private cap: number;
  private freeHead = -1;
  private nextFresh = 0;
  private seq = 0;
  private live = 0;
  private garbage = 0;
  // top
  private topHead = -1;
  private topCount = 0;
  private topMin = Infinity;
  private topMax = -Infinity;
  private topStart = -Infinity;
  // rungs (rung 0 is the coarsest); the bucket heads of all rungs share one array
  private heads = new Int32Array(1024);
  private readonly rStart = new Float64Array(MAX_RUNGS);
  private readonly rWidth = new Float64Array(MAX_RUNGS);
  private readonly rCurStart = new Float64Array(MAX_RUNGS);
  private readonly rNb = new Int32Array(MAX_RUNGS);
  private readonly rCur = new Int32Array(MAX_RUNGS);
  private readonly rBase = new Int32Array(MAX_RUNGS);
  private nRungs = 0;
  // bottom: sorted [bHead, bEnd)
  private bTime = new Float64Array(64);
  private bKey = new Float64Array(64);
  private bSlot = new Int32Array(64);
  private bHead = 0;
  private bEnd = 0;
  // scratch for sorting the bottom
  private tTime = new Float64Array(64);
  private tKey = new Float64Array(64);
  private tSlot = new Int32Array(64);
  private runStarts = new Int32Array(64);
  /** How often Top was spread into a rung, a bucket into a child rung, and tombstones rebuilt. */
  readonly counters = { topSpreads: 0, childSpreads: 0, rebuilds: 0, maxRungs: 0 };

  /** Fields of the event returned by the last successful pop(). */
  time = 0;
  priority = 0;
  target = 0;
  arg = 0;
  slot = 0;
  handle = -1;

  constructor(initialCapacity = 1024) {
    this.cap = Math.max(16, Math.min(initialCapacity | 0, SLOT_LIMIT));
    const buf = new ArrayBuffer(this.cap * QUEUE_BYTES_PER_SLOT);
    this.F = new Float64Array(buf);
    this.I = new Int32Array(buf);
  }

  /** Number of pending events. */
  get size(): number {
    return this.live;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Bytes held by all typed arrays of the queue (its whole footprint). */
  allocatedBytes(): number {
    return this.F.byteLength + this.heads.byteLength + (this.bTime.byteLength * 2 + this.bSlot.byteLength) * 2 + this.runStarts.byteLength + MAX_RUNGS * 40;
  }

  /**
   * Adds an event. The caller validates time (an integer number of ns, not before the last popped
   * event); priority must be an integer in [0, 255]. Returns a handle for cancel/reschedule.
   */
  push(time: number, priority: number, target: number, arg: number): number {
    if (this.seq >= SEQ_LIMIT) throw new SimError("event queue sequence counter exhausted (2^45 events)");
    let slot = this.freeHead;
    if (slot >= 0) {
      this.freeHead = this.I[8 * slot + 7]!;
    } else {
      if (this.nextFresh === this.cap) this.grow();
      slot = this.nextFresh++;
    }
    const key = priority * SEQ_LIMIT + this.seq++;
    const F = this.F, I = this.I;
    F[4 * slot] = time;
    F[4 * slot + 1] = key;
    I[8 * slot + 4] = target;
    I[8 * slot + 5] = arg;
    this.live++;
    this.insert(slot, time, key);
    return I[8 * slot + 6]! * SLOT_LIMIT + slot;
  }

  /** Removes the earliest event into the public fields. Returns false when the queue is empty. */
  pop(): boolean {
    if (!this.settle()) return false;
    const i = this.bHead++;
    const slot = this.bSlot[i]!;
    const I = this.I;
    this.time = this.bTime[i]!;
    this.priority = Math.floor(this.bKey[i]! / SEQ_LIMIT);
    this.target = I[8 * slot + 4]!;
    this.arg = I[8 * slot + 5]!;
    this.slot = slot;
    const gen = I[8 * slot + 6]!;
    this.handle = gen * SLOT_LIMIT + slot;
    I[8 * slot + 6] = gen + 1 === GEN_LIMIT ? 0 : gen + 1;
    I[8 * slot + 7] = this.freeHead;
    this.freeHead = slot;
    this.live--;
    return true;
  }

  /** Time of the earliest pending event, or Infinity when none. */
  peekTime(): number {
    return this.settle() ? this.bTime[this.bHead]! : Infinity;
  }

  isPending(handle: number): boolean {
    return this.slotOf(handle) >= 0;
  }

  /** Time of a pending event. */
  timeOf(handle: number): number {
    return this.F[4 * this.checkedSlot(handle, "query")]!;
  }

  /** Priority of a pending event. */
  priorityOf(handle: number): number {
    return Math.floor(this.F[4 * this.checkedSlot(handle, "query") + 1]! / SEQ_LIMIT);
  }

  /** Cancels a pending event; cancelling a fired or already cancelled event throws. */
  cancel(handle: number): void {
    const slot = this.checkedSlot(handle, "cancel");
    // The handle dies now; the slot is recycled when the queue next meets the tombstone.
    this.I[8 * slot + 4] = TOMBSTONE;
    this.bumpGen(slot);
    this.live--;
    this.garbage++;
    if (this.garbage > 4096 && this.garbage > this.live) this.rebuild();
  }

  /**
   * Moves a pending event to a new time (and optionally priority), ordered as if scheduled now.
   * Returns the event's new handle; the old one is no longer pending.
   */
  reschedule(handle: number, time: number, priority?: number): number {
    const slot = this.checkedSlot(handle, "reschedule");
    const prio = priority ?? Math.floor(this.F[4 * slot + 1]! / SEQ_LIMIT);
    const target = this.I[8 * slot + 4]!;
    const arg = this.I[8 * slot + 5]!;
    this.cancel(handle);
    return this.push(time, prio, target, arg);
  }

  /** Drops every pending event (their handles stop being pending). */
  clear(): void {
    for (let s = 0; s < this.nextFresh; s++) this.bumpGen(s);
    this.freeHead = -1;
    this.nextFresh = 0;
    this.resetStructure();
    this.live = 0;
    this.garbage = 0;
  }

  // ---- internals -------------------------------------------------------------------------

  private slotOf(handle: number): number {
    if (!Number.isSafeInteger(handle) || handle < 0) return -1;
    const slot = handle % SLOT_LIMIT;
    const gen = (handle - slot) / SLOT_LIMIT;
    if (slot >= this.nextFresh || this.I[8 * slot + 6] !== gen) return -1;
    return slot;
  }

  private checkedSlot(handle: number, op: string): number {
    const slot = this.slotOf(handle);
    if (slot < 0) throw new SimError(`cannot ${op} event ${handle}: it is not pending (already fired or cancelled, or not a handle)`);
    return slot;
  }

  private bumpGen(slot: number): void {
    const g = this.I[8 * slot + 6]! + 1;
    this.I[8 * slot + 6] = g === GEN_LIMIT ? 0 : g;
  }

  /** Recycles a tombstone met in the structure. */
  private dropTombstone(slot: number): void {
    this.garbage--;
    this.I[8 * slot + 7] = this.freeHead;
    this.freeHead = slot;
  }

  private resetTop(): void {
    this.topHead = -1;
    this.topCount = 0;
    this.topMin = Infinity;
    this.topMax = -Infinity;
  }

  private resetStructure(): void {
    this.resetTop();
    this.topStart = -Infinity;
    this.nRungs = 0;
    this.bHead = 0;
    this.bEnd = 0;
  }

  private insert(slot: number, t: number, key: number): void {
    const I = this.I;
    if (t >= this.topStart) {
      I[8 * slot + 7] = this.topHead;
      this.topHead = slot;
      this.topCount++;
      if (t < this.topMin) this.topMin = t;
      if (t > this.topMax) this.topMax = t;
      return;
    }
    for (let r = 0; r < this.nRungs; r++) {
      if (t >= this.rCurStart[r]!) {
        const g = this.rBase[r]! + Math.floor((t - this.rStart[r]!) / this.rWidth[r]!);
        I[8 * slot + 7] = this.heads[g]!;
        this.heads[g] = slot;
        return;
      }
    }
    this.bottomInsert(slot, t, key);
  }

  /**
   * Makes bottom[bHead] the earliest live event, dropping tombstones on the way.
   * Returns false when no live event is left.
   */
  private settle(): boolean {
    for (;;) {
      if (this.bHead === this.bEnd && !this.refill()) return false;
      const s = this.bSlot[this.bHead]!;
      if (this.I[8 * s + 4] !== TOMBSTONE) return true;
      this.bHead++;
      this.dropTombstone(s);
    }
  }

  /** Moves the next bucket of near-future events into the (empty) bottom. */
  private refill(): boolean {
    const I = this.I;
    for (;;) {
      if (this.nRungs === 0) {
        if (this.topCount === 0) return false;
        this.spreadTop();
      }
      const r = this.nRungs - 1;
      const base = this.rBase[r]!;
      const nb = this.rNb[r]!;
      const heads = this.heads;
      let b = this.rCur[r]!;
      while (b < nb && heads[base + b]! < 0) b++;
      if (b === nb) {
        this.nRungs--;
        continue;
      }
      const w = this.rWidth[r]!;
      const head = heads[base + b]!;
      heads[base + b] = -1;
      this.rCur[r] = b + 1;
      this.rCurStart[r] = this.rStart[r]! + (b + 1) * w;
      let count = 0;
      for (let x = head; x >= 0; x = I[8 * x + 7]!) count++;
      if (count > BUCKET_SORT_LIMIT && w > 1 && this.nRungs < MAX_RUNGS) {
        this.spreadList(head, count, this.rStart[r]! + b * w, w);
        continue;
      }
      this.fillBottom(head, count);
      return true;
    }
  }

  /**
   * Copies a bucket's list (count events) into the bottom and sorts it with a natural merge sort:
   * bucket lists hold a few monotone runs (prepends give descending runs, spreads ascending ones),
   * so this is close to linear.
   */
  private fillBottom(head: number, count: number): void {
    if (count > this.bTime.length) this.growBottom(count);
    const F = this.F, I = this.I;
    let bTime = this.bTime, bKey = this.bKey, bSlot = this.bSlot;
    let i = 0;
    for (let s = head; s >= 0; s = I[8 * s + 7]!) {
      bTime[i] = F[4 * s]!;
      bKey[i] = F[4 * s + 1]!;
      bSlot[i] = s;
      i++;
    }
    this.bHead = 0;
    this.bEnd = count;
    // Split into runs, reversing descending ones. (time, key) pairs are all distinct.
    if (this.runStarts.length <= count) this.runStarts = new Int32Array(Math.max(count + 1, this.runStarts.length * 2));
    const runs = this.runStarts;
    let nRuns = 0;
    i = 0;
    while (i < count) {
      runs[nRuns++] = i;
      let j = i + 1;
      if (j < count && before(bTime[j]!, bKey[j]!, bTime[i]!, bKey[i]!)) {
        while (j + 1 < count && before(bTime[j + 1]!, bKey[j + 1]!, bTime[j]!, bKey[j]!)) j++;
        reverseRange(bTime, bKey, bSlot, i, j);
      } else {
        while (j < count && !before(bTime[j]!, bKey[j]!, bTime[j - 1]!, bKey[j - 1]!)) j++;
        j--;
      }
      i = j + 1;
    }
    if (nRuns === 1) return;
    runs[nRuns] = count;
    if (this.tTime.length < count) {
      this.tTime = new Float64Array(this.bTime.length);
      this.tKey = new Float64Array(this.bTime.length);
      this.tSlot = new Int32Array(this.bTime.length);
    }
    let oTime = this.tTime, oKey = this.tKey, oSlot = this.tSlot;
    while (nRuns > 1) {
      let out = 0;
      for (let r = 0; r < nRuns; r += 2) {
        const a0 = runs[r]!, a1 = runs[r + 1]!;
        const b1 = r + 2 <= nRuns ? runs[r + 2]! : a1;
        runs[out++] = a0;
        let a = a0, b = a1, o = a0;
        while (a < a1 && b < b1) {
          if (before(bTime[b]!, bKey[b]!, bTime[a]!, bKey[a]!)) {
            oTime[o] = bTime[b]!; oKey[o] = bKey[b]!; oSlot[o] = bSlot[b]!; b++;
          } else {
            oTime[o] = bTime[a]!; oKey[o] = bKey[a]!; oSlot[o] = bSlot[a]!; a++;
          }
          o++;
        }
        while (a < a1) { oTime[o] = bTime[a]!; oKey[o] = bKey[a]!; oSlot[o] = bSlot[a]!; a++; o++; }
        while (b < b1) { oTime[o] = bTime[b]!; oKey[o] = bKey[b]!; oSlot[o] = bSlot[b]!; b++; o++; }
      }
      runs[out] = count;
      nRuns = out;
      const xt = bTime, xk = bKey, xs = bSlot;
      bTime = oTime; bKey = oKey; bSlot = oSlot;
      oTime = xt; oKey = xk; oSlot = xs;
    }
    // The sorted data may have ended in the scratch arrays: swap the roles.
    this.bTime = bTime; this.bKey = bKey; this.bSlot = bSlot;
    this.tTime = oTime; this.tKey = oKey; this.tSlot = oSlot;
  }

  /** Inserts one event into the sorted bottom (an event due before every rung's current bucket). */
  private bottomInsert(slot: number, t: number, key: number): void {
    if (this.bEnd === this.bTime.length) {
      if (this.bHead > 0) this.compactBottom();
      else this.growBottom(this.bEnd + 1);
    }
    const bTime = this.bTime, bKey = this.bKey, bSlot = this.bSlot;
    let lo = this.bHead, hi = this.bEnd;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bTime[mid]! < t || (bTime[mid] === t && bKey[mid]! < key)) lo = mid + 1;
      else hi = mid;
    }
    bTime.copyWithin(lo + 1, lo, this.bEnd);
    bKey.copyWithin(lo + 1, lo, this.bEnd);
    bSlot.copyWithin(lo + 1, lo, this.bEnd);
    bTime[lo] = t;
    bKey[lo] = key;
    bSlot[lo] = slot;
    this.bEnd++;
  }

  private compactBottom(): void {
    const n = this.bEnd - this.bHead;
    this.bTime.copyWithin(0, this.bHead, this.bEnd);
    this.bKey.copyWithin(0, this.bHead, this.bEnd);
    this.bSlot.copyWithin(0, this.bHead, this.bEnd);
    this.bHead = 0;
    this.bEnd = n;
  }

  private growBottom(atLeast: number): void {
    const n = Math.max(atLeast, this.bTime.length * 2);
    this.bTime = growTo(this.bTime, new Float64Array(n));
    this.bKey = growTo(this.bKey, new Float64Array(n));
    this.bSlot = growTo(this.bSlot, new Int32Array(n));
    this.tTime = new Float64Array(n);
    this.tKey = new Float64Array(n);
    this.tSlot = new Int32Array(n);
  }

  /** Spreads the Top list into a new coarsest rung. */
  private spreadTop(): void {
    this.counters.topSpreads++;
    const min = this.topMin;
    const nb0 = Math.max(1, Math.ceil(this.topCount / EVENTS_PER_BUCKET));
    const w = nextPow2(Math.ceil((this.topMax - min + 1) / nb0));
    const nb = Math.floor((this.topMax - min) / w) + 1;
    const head = this.topHead;
    this.resetTop();
    this.topStart = min + nb * w;
    this.fillRung(this.newRung(min, w, nb), head);
  }

  /** Spreads one over-full bucket [start, start + width) into a finer child rung. */
  private spreadList(head: number, count: number, start: number, width: number): void {
    this.counters.childSpreads++;
    const cw = nextPow2(Math.ceil(width / Math.max(2, Math.ceil(count / EVENTS_PER_BUCKET))));
    this.fillRung(this.newRung(start, cw, width / cw), head);
  }

  private newRung(start: number, width: number, nb: number): number {
    const r = this.nRungs++;
    if (this.nRungs > this.counters.maxRungs) this.counters.maxRungs = this.nRungs;
    const base = r === 0 ? 0 : this.rBase[r - 1]! + this.rNb[r - 1]!;
    if (base + nb > this.heads.length) {
      const h = new Int32Array(Math.max(base + nb, this.heads.length * 2));
      h.set(this.heads.subarray(0, base));
      this.heads = h;
    }
    this.heads.fill(-1, base, base + nb);
    this.rStart[r] = start;
    this.rWidth[r] = width;
    this.rNb[r] = nb;
    this.rCur[r] = 0;
    this.rBase[r] = base;
    this.rCurStart[r] = start;
    return r;
  }

  private fillRung(r: number, head: number): void {
    const F = this.F, I = this.I, heads = this.heads;
    const base = this.rBase[r]!, start = this.rStart[r]!, w = this.rWidth[r]!;
    let s = head;
    while (s >= 0) {
      const nx = I[8 * s + 7]!;
      const g = base + Math.floor((F[4 * s]! - start) / w);
      I[8 * s + 7] = heads[g]!;
      heads[g] = s;
      s = nx;
    }
  }

  /** Recycles every tombstone by re-inserting the live events into an empty Top. */
  private rebuild(): void {
    this.counters.rebuilds++;
    const I = this.I;
    const liveSlots: number[] = [];
    const take = (s: number): void => {
      if (I[8 * s + 4] === TOMBSTONE) this.dropTombstone(s);
      else liveSlots.push(s);
    };
    for (let s = this.topHead; s >= 0; ) {
      const nx = I[8 * s + 7]!;
      take(s);
      s = nx;
    }
    for (let r = 0; r < this.nRungs; r++) {
      for (let b = this.rCur[r]!; b < this.rNb[r]!; b++) {
        for (let s = this.heads[this.rBase[r]! + b]!; s >= 0; ) {
          const nx = I[8 * s + 7]!;
          take(s);
          s = nx;
        }
      }
    }
    for (let i = this.bHead; i < this.bEnd; i++) take(this.bSlot[i]!);
    this.resetStructure();
    for (const s of liveSlots) this.insert(s, this.F[4 * s]!, this.F[4 * s + 1]!);
  }

  private grow(): void {
    if (this.cap >= SLOT_LIMIT) throw new SimError(`event queue is full (${SLOT_LIMIT} pending events)`);
    const cap = Math.min(SLOT_LIMIT, Math.max(this.cap + 1024, Math.floor(this.cap * 1.25)));
    const buf = new ArrayBuffer(cap * QUEUE_BYTES_PER_SLOT);
    const F = new Float64Array(buf);
    F.set(this.F);
    this.F = F;
    this.I = new Int32Array(buf);
    this.cap = cap;
  }
}

/** (t1, k1) orders before (t2, k2). */
function before(t1: number, k1: number, t2: number, k2: number): boolean {
  return t1 < t2 || (t1 === t2 && k1 < k2);
}

function reverseRange(t: Float64Array, k: Float64Array, s: Int32Array, lo: number, hi: number): void {
  while (lo < hi) {
    const a = t[lo]!; t[lo] = t[hi]!; t[hi] = a;
    const b = k[lo]!; k[lo] = k[hi]!; k[hi] = b;
    const c = s[lo]!; s[lo] = s[hi]!; s[hi] = c;
    lo++;
    hi--;
  }
}

/** Smallest power of two >= x (exact: log2 rounding is corrected). */
function nextPow2(x: number): number {
  if (x <= 1) return 1;
  let p = 2 ** Math.ceil(Math.log2(x));
  if (p < x) p *= 2;
  else if (p / 2 >= x) p /= 2;
  return p;
}

function growTo<T extends Float64Array | Int32Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}
