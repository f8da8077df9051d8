// Injects the failures a flaky network and a dying process produce, for tests of everything that
// must survive them (WAL, manifest commits, flush, compaction, GC). Rules choose calls by
// operation, key pattern, ordinal and a seeded probability, and say what happens to them:
//
// - error: the call fails without reaching the store (kind 'transient' unless told otherwise);
// - latency: the call is delayed, then performed;
// - timeout: the call is delayed, then fails transiently without reaching the store;
// - lost_response: the call is performed (a put lands, a delete deletes), then fails
//   transiently, as when a response is dropped on the way back;
// - crash: the process "dies" before or after performing the call; from then on every call of
//   this wrapper fails, as nothing more reaches storage from a dead process. A restart is a new
//   wrapper (or a new catalog over the inner store).
//
// Randomness comes from the caller (`random`, e.g. test/support/rng.ts), so a failing seed
// replays exactly. Every mutation that reached the store is journaled, so a test can run a
// scenario once to learn its put/delete points and then crash at each of them in turn.

import { StorageError, type StorageErrorKind, type StorageOperation } from './errors.ts';
import type {
  ByteRange, GetOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutCondition,
} from './object-store.ts';

export type Fault =
  | { type: 'error'; kind?: StorageErrorKind }
  | { type: 'latency'; ms: number }
  | { type: 'timeout'; ms: number }
  | { type: 'lost_response' }
  | { type: 'crash'; when: 'before' | 'after' };

export interface FaultRule {
  /** Operations the rule applies to; all when absent. */
  ops?: readonly StorageOperation[];
  /** Keys (for list: prefixes) the rule applies to; all when absent. */
  key?: RegExp;
  /** Fire on the nth matching call only (1-based), counted from when the rule was added. */
  nth?: number;
  /** Chance that a matching call fires (default 1), drawn from the wrapper's `random`. */
  probability?: number;
  /** Fire at most this many times (default: once with `nth`, unbounded without). */
  times?: number;
  fault: Fault;
}

export interface FaultOptions {
  /** Uniform [0, 1), seeded by the caller so runs reproduce. */
  random: () => number;
  /** Replaces setTimeout for latency and timeouts. */
  sleep?: (ms: number) => Promise<void>;
}

export interface Mutation {
  op: 'put' | 'delete';
  key: string;
}

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  fired: number;
}

export class FaultyObjectStore implements ObjectStore {
  readonly #rules: ActiveRule[] = [];
  #crashed: string | null = null;
  /** Puts and deletes that reached the inner store, in order. */
  readonly journal: Mutation[] = [];
  /** How many times each fault type fired. */
  readonly fired: Record<Fault['type'], number> = { error: 0, latency: 0, timeout: 0, lost_response: 0, crash: 0 };

  constructor(
    private readonly inner: ObjectStore,
    private readonly options: FaultOptions,
  ) {}

  /** Adds a rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void {
    const active = { rule, seen: 0, fired: 0 };
    this.#rules.push(active);
    return () => {
      const at = this.#rules.indexOf(active);
      if (at >= 0) this.#rules.splice(at, 1);
    };
  }

  /** Removes every rule (a crash stays a crash). */
  clear(): void {
    this.#rules.length = 0;
  }

  /** Whether a crash rule has fired: the process this wrapper stands for is dead. */
  get crashed(): boolean {
    return this.#crashed !== null;
  }

  /** Where the process died, e.g. `put 'ns/manifest/current' (before)`; null while alive. */
  get crashedAt(): string | null {
    return this.#crashed;
  }

  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult> {
    return this.#call('get', key, () => this.inner.get(key, range, options));
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.#call('head', key, () => this.inner.head(key));
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#call('list', prefix, () => this.inner.list(prefix, options));
  }

  put(key: string, body: Uint8Array, condition?: PutCondition): Promise<{ etag: string }> {
    return this.#call('put', key, async () => {
      const result = await this.inner.put(key, body, condition);
      this.journal.push({ op: 'put', key });
      return result;
    });
  }

  delete(key: string): Promise<void> {
    return this.#call('delete', key, async () => {
      await this.inner.delete(key);
      this.journal.push({ op: 'delete', key });
    });
  }

  async #call<T>(op: StorageOperation, key: string, perform: () => Promise<T>): Promise<T> {
    if (this.#crashed !== null) throw this.#dead(op, key);
    const fault = this.#pick(op, key);
    if (fault === null) return perform();
    this.fired[fault.type]++;
    switch (fault.type) {
      case 'error':
        throw new StorageError(fault.kind ?? 'transient', op, key, 'injected fault');
      case 'latency':
        await this.#sleep(fault.ms);
        return perform();
      case 'timeout':
        await this.#sleep(fault.ms);
        throw new StorageError('transient', op, key, `injected timeout after ${fault.ms} ms`);
      case 'lost_response':
        await perform();
        throw new StorageError('transient', op, key, 'injected fault: the request was applied but its response was lost');
      case 'crash':
        try {
          if (fault.when === 'after') await perform();
        } finally {
          this.#crashed = `${op} '${key}' (${fault.when})`;
        }
        throw this.#dead(op, key);
    }
  }

  #pick(op: StorageOperation, key: string): Fault | null {
    for (const active of this.#rules) {
      const { rule } = active;
      if (rule.ops && !rule.ops.includes(op)) continue;
      if (rule.key && !rule.key.test(key)) continue;
      active.seen++;
      if (rule.nth !== undefined && active.seen !== rule.nth) continue;
      if (active.fired >= (rule.times ?? (rule.nth === undefined ? Infinity : 1))) continue;
      if (rule.probability !== undefined && this.options.random() >= rule.probability) continue;
      active.fired++;
      return rule.fault;
    }
    return null;
  }

  #dead(op: StorageOperation, key: string): StorageError {
    return new StorageError('transient', op, key, `injected crash: the process died at ${this.#crashed}`);
  }

  #sleep(ms: number): Promise<void> {
    return this.options.sleep ? this.options.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }
}
