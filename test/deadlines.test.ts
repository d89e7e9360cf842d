import { describe, expect, it } from 'vitest';
import { Deadlines, type Expiring } from '../src/util/deadlines.js';

function entry(expiresAt: number, fired: number[], id: number): Expiring {
  return { expiresAt, expirySlot: -1, expire: () => fired.push(id) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds, for up to 10 s (the box may be loaded). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await sleep(10);
}

describe('Deadlines (the shared deadline timer)', () => {
  it('expires entries in deadline order, whatever the order they were added in', async () => {
    const d = new Deadlines();
    const fired: number[] = [];
    const now = Date.now();
    const delays = [120, 30, 90, 60, 150, 10];
    delays.forEach((ms, i) => d.add(entry(now + ms, fired, i)));
    await until(() => fired.length === delays.length);
    expect(fired).toEqual([5, 1, 3, 2, 0, 4]);
    expect(d.size).toBe(0);
  });

  it('never expires a removed entry, and expires the others', async () => {
    const d = new Deadlines();
    const fired: number[] = [];
    const now = Date.now();
    const entries = [10, 20, 30, 40, 50].map((ms, i) => entry(now + ms, fired, i));
    for (const e of entries) d.add(e);
    d.remove(entries[0]);
    d.remove(entries[3]);
    d.remove(entries[3]); // twice: no effect
    expect(entries[0].expirySlot).toBe(-1);
    await until(() => fired.length === 3);
    await sleep(80);
    expect(fired).toEqual([1, 2, 4]);
  });

  it('does not expire an entry before its deadline, even when an earlier one re-arms the timer', async () => {
    const d = new Deadlines();
    const firedAt: Array<[number, number]> = [];
    const start = Date.now();
    const late: Expiring = { expiresAt: start + 200, expirySlot: -1, expire: () => firedAt.push([1, Date.now()]) };
    const early: Expiring = { expiresAt: start + 50, expirySlot: -1, expire: () => firedAt.push([0, Date.now()]) };
    d.add(late);
    d.add(early);
    await until(() => firedAt.length === 2);
    expect(firedAt.map(([id]) => id)).toEqual([0, 1]);
    expect(firedAt[0][1]).toBeGreaterThanOrEqual(early.expiresAt);
    expect(firedAt[1][1]).toBeGreaterThanOrEqual(late.expiresAt);
  });

  it('holds only live entries: a storm of calls that end before their deadline leaves it empty', () => {
    const d = new Deadlines();
    const fired: number[] = [];
    const now = Date.now();
    const live: Expiring[] = [];
    for (let i = 0; i < 10_000; i++) {
      const e = entry(now + 60_000 + (i % 7) * 1000, fired, i);
      d.add(e);
      live.push(e);
      // Calls end out of order.
      if (i % 3 === 2) for (const x of live.splice(0, 2)) d.remove(x);
    }
    expect(d.size).toBe(live.length);
    for (const e of live.reverse()) d.remove(e);
    expect(d.size).toBe(0);
    expect(fired).toEqual([]);
    // Nothing left to wait for: the timer no longer keeps the process alive.
    const timer = (d as unknown as { timer?: NodeJS.Timeout }).timer;
    expect(timer?.hasRef() ?? false).toBe(false);
    // A new call makes it hold the process again.
    const next = entry(Date.now() + 120_000, fired, -1);
    d.add(next);
    expect((d as unknown as { timer?: NodeJS.Timeout }).timer?.hasRef()).toBe(true);
    d.remove(next);
  });

  it('keeps the heap ordered under random adds and removes', () => {
    const d = new Deadlines();
    const all: Expiring[] = [];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const base = Date.now() + 3_600_000;
    for (let i = 0; i < 2000; i++) {
      if (all.length > 0 && rand() < 0.4) {
        const [e] = all.splice(Math.floor(rand() * all.length), 1);
        d.remove(e);
      } else {
        const e = entry(base + Math.floor(rand() * 1000), [], i);
        d.add(e);
        all.push(e);
      }
    }
    // Every entry knows its slot, and every parent is due no later than its children.
    const heap = (d as unknown as { heap: Expiring[] }).heap;
    expect(heap.length).toBe(all.length);
    heap.forEach((e, i) => {
      expect(e.expirySlot).toBe(i);
      if (i > 0) expect(heap[(i - 1) >> 1].expiresAt).toBeLessThanOrEqual(e.expiresAt);
    });
    for (const e of all) d.remove(e);
    expect(d.size).toBe(0);
  });
});
