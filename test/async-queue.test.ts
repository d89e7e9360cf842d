import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../src/util/async-queue.js';

describe('AsyncQueue', () => {
  it('asks the producer to pause at the byte limit, even below the item count', () => {
    const q = new AsyncQueue<string>({ highWaterMark: 16, byteLimit: 100 });
    expect(q.push('a', 40)).toBe(true);
    expect(q.push('b', 40)).toBe(true);
    expect(q.push('c', 40)).toBe(false);
  });

  it('counts only what is still buffered, and calls onDrain once the consumer has emptied it', async () => {
    const q = new AsyncQueue<string>({ byteLimit: 100 });
    let drains = 0;
    q.onDrain = () => drains++;
    q.push('a', 60);
    expect(q.push('b', 60)).toBe(false);
    expect(await q.next()).toEqual({ value: 'a', done: false });
    expect(drains).toBe(0);
    expect(await q.next()).toEqual({ value: 'b', done: false });
    expect(drains).toBe(1);
    expect(q.push('c', 60)).toBe(true);
  });

  it('prepares an item only when the consumer takes it, in order', async () => {
    const prepared: number[] = [];
    const q = new AsyncQueue<string, number>({ prepare: (n) => (prepared.push(n), `#${n}`) });
    q.push(1, 1);
    q.push(2, 1);
    expect(prepared).toEqual([]);
    expect((await q.next()).value).toBe('#1');
    expect(prepared).toEqual([1]);
    const waiting = q.next();
    const third = q.next();
    q.end();
    expect((await waiting).value).toBe('#2');
    expect(await third).toEqual({ value: undefined, done: true });
    // An item pushed to a consumer already waiting is prepared at once: it is being read.
    const q2 = new AsyncQueue<string, number>({ prepare: (n) => `#${n}` });
    const pending = q2.next();
    expect(q2.push(7, 1)).toBe(true);
    expect((await pending).value).toBe('#7');
  });

  it('ends with the error when prepare throws, drops the rest and reports it through onError', async () => {
    const boom = new Error('too big');
    const q = new AsyncQueue<string, number>({ prepare: (n) => { if (n === 2) throw boom; return `#${n}`; } });
    const errors: unknown[] = [];
    q.onError = (e) => errors.push(e);
    q.push(1, 1);
    q.push(2, 1);
    q.push(3, 1);
    expect((await q.next()).value).toBe('#1');
    await expect(q.next()).rejects.toBe(boom);
    expect(errors).toEqual([boom]);
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(q.push(4, 1)).toBe(false);
    expect(q.length).toBe(0);
  });

  it('rejects a waiting consumer when the item pushed to it fails to prepare', async () => {
    const boom = new Error('corrupt');
    const q = new AsyncQueue<string, number>({ prepare: () => { throw boom; } });
    const errors: unknown[] = [];
    q.onError = (e) => errors.push(e);
    const pending = q.next();
    expect(q.push(1, 1)).toBe(false);
    await expect(pending).rejects.toBe(boom);
    expect(errors).toEqual([boom]);
  });

  it('calls onReturn when the consumer stops before the end or leaves items behind, not after reading everything', async () => {
    let returns = 0;
    const q = new AsyncQueue<number>();
    q.onReturn = () => returns++;
    q.push(1, 1);
    q.push(2, 1);
    q.end();
    await q.next();
    await q.return();
    expect(returns).toBe(1);
    const done = new AsyncQueue<number>();
    done.onReturn = () => returns++;
    done.push(1, 1);
    done.end();
    await done.next();
    await done.return();
    expect(returns).toBe(1);
  });
});
