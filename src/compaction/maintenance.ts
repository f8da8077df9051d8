// The background indexer: folds tails into segments when they pass a size, count or age
// threshold, asks the merge policy as soon as the segment list changed (after a flush or a merge,
// so a namespace converges to few segments within ticks, not hours) and every interval (deletions
// alone may make a segment worth rewriting), and garbage-collects after either. One task at a time per namespace; failures are logged and
// retried on the next tick, never lost (the WAL still holds everything).
import type { FastifyBaseLogger } from 'fastify';
import { collectGarbage } from './gc.ts';
import { compactOnce, mergePlan } from './compactor.ts';
import { flushTail } from '../indexer/flush.ts';
import type { Namespace } from '../indexer/namespace.ts';
import { ManifestConflictError } from '../manifest/manifest.ts';

export interface MaintenanceOptions {
  flush_docs: number;
  flush_bytes: number;
  flush_interval_secs: number;
  /** 0 = off. */
  idle_flush_secs?: number;
  compaction: { enabled: boolean; interval_secs: number; max_segments: number; max_total_docs: number; gc_grace_secs: number; history_retention_secs?: number };
}

interface State {
  /** The check running now, if any. */
  running: Promise<void> | null;
  /** Set once the namespace is closed: nothing here touches it again. */
  released: boolean;
  lastFlush: number;
  lastCompaction: number;
  /** The segment list the merge policy last saw (a commit always installs a new array). */
  planned: readonly unknown[] | null;
  lastGc: number;
  /** The manifest version GC last saw, and when it first saw it. */
  gcVersion: number;
  changedAt: number;
  /** GC is owed: once for the change itself, once more when its garbage is past the grace period. */
  gcDue: boolean;
  ageOutDue: boolean;
}

const TICK_MS = 1000;

export class Maintenance {
  private readonly state = new WeakMap<Namespace, State>();
  private timer: NodeJS.Timeout | null = null;
  /** Called when another writer changed a namespace's manifest under it (the node is fenced). */
  onFenced: ((ns: Namespace) => void) | null = null;

  constructor(
    private readonly namespaces: () => Namespace[],
    private readonly opts: MaintenanceOptions,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      for (const ns of this.namespaces()) void this.check(ns);
    }, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Hooked to every applied write: a tail past its size thresholds is flushed at once. */
  watch(ns: Namespace): void {
    ns.onTailGrowth = () => {
      if (ns.memtable.rowCount >= this.opts.flush_docs || ns.memtable.bytes >= this.opts.flush_bytes) void this.check(ns);
    };
  }

  private stateOf(ns: Namespace): State {
    let s = this.state.get(ns);
    if (!s) {
      const t = this.now();
      // What an earlier process left is collected once the grace period after the open has
      // passed (GC deletes nothing younger anyway), or after the next commit: a GC on every open
      // was 4 LISTs per namespace created or reopened for memory, a third of the node's requests
      // when 100k namespaces take turns (docs/benchmarks.md, namespace-bound).
      s = {
        running: null, released: false, lastFlush: t, lastCompaction: t, planned: null, lastGc: 0,
        gcVersion: ns.loaded.manifest.version, changedAt: t, gcDue: false, ageOutDue: true,
      };
      this.state.set(ns, s);
    }
    return s;
  }

  /** Waits for the running check of `ns`, then never checks it again (it is being closed). */
  async release(ns: Namespace): Promise<void> {
    const s = this.stateOf(ns);
    s.released = true;
    ns.onTailGrowth = null;
    await s.running;
  }

  /**
   * Ingest paused with a tail worth indexing: every query scans the tail exactly, and at 1M
   * documents the last partial tail waited out flush_interval_secs, the whole of the 61 s from
   * the last write to fully indexed (bench scale). A tenth of flush_docs at least, so that a
   * trickle of small writes still folds at flush_interval_secs and makes no tiny segments.
   */
  private idleFlushDue(ns: Namespace, now: number): boolean {
    const idle = this.opts.idle_flush_secs ?? 0;
    if (idle === 0 || ns.memtable.rowCount < Math.ceil(this.opts.flush_docs / 10)) return false;
    const lastWrite = ns.state.writtenAt();
    return lastWrite !== null && now - lastWrite >= idle * 1000;
  }

  check(ns: Namespace): Promise<void> {
    const s = this.stateOf(ns);
    if (s.running || s.released) return Promise.resolve();
    const run = this.run(ns, s).finally(() => {
      s.running = null;
    });
    s.running = run;
    return run;
  }

  private async run(ns: Namespace, s: State): Promise<void> {
    const { compaction } = this.opts;
    try {
      const now = this.now();
      const tail = ns.memtable;
      const unfolded = ns.lastAppliedSeq > ns.loaded.manifest.wal_watermark;
      // A namespace refused writes for backpressure flushes now, so the 429s end by themselves.
      if (unfolded && (tail.rowCount >= this.opts.flush_docs || tail.bytes >= this.opts.flush_bytes || ns.overLimit
        || now - s.lastFlush >= this.opts.flush_interval_secs * 1000 || this.idleFlushDue(ns, now))) {
        const started = this.now();
        const docs = tail.size;
        await flushTail(ns);
        s.lastFlush = this.now();
        this.log.info({ namespace: ns.name, documents: docs, ms: s.lastFlush - started, segments: ns.segments.length }, 'tail flushed');
      } else if (!unfolded) {
        s.lastFlush = now;
      }
      // One round per check: a merge's output may complete a tier, which the next tick merges,
      // after this namespace's flush if one is due by then.
      // Flushes first: while ingest outruns indexing the tail is due again as soon as a flush
      // ends, and a merge (minutes for large segments) would hold the next flush back, so the
      // tail queries scan grows. Merges wait until a flush leaves the tail below its threshold.
      if (compaction.enabled && !this.flushDue(ns) && (ns.segments !== s.planned || now - s.lastCompaction >= compaction.interval_secs * 1000)) {
        const seen = ns.segments;
        if (mergePlan(ns, compaction).length > 0) {
          const started = this.now();
          const merged = await compactOnce(ns, compaction, () => this.flushDue(ns));
          if (merged > 0) this.log.info({ namespace: ns.name, merges: merged, ms: this.now() - started, segments: ns.segments.length }, 'segments merged');
        }
        // Only once it succeeded: a failed merge is planned again on the next tick.
        s.planned = seen;
        s.lastCompaction = now;
      }
      if (this.gcDue(ns, s)) {
        const started = this.now();
        const removed = await ns.exclusive(() => collectGarbage(ns.deps.store, ns.name, ns.loaded.manifest, compaction.gc_grace_secs * 1000, started, (compaction.history_retention_secs ?? 0) * 1000));
        s.lastGc = this.now();
        s.gcDue = false;
        if (started - s.changedAt >= compaction.gc_grace_secs * 1000) s.ageOutDue = false;
        if (removed.wal + removed.segments + removed.manifests > 0) this.log.info({ namespace: ns.name, ...removed }, 'garbage collected');
      }
    } catch (e) {
      // Only another writer moving the pointer is a conflict (an orphan version left by a crash
      // is skipped by the commit itself), so fencing here is always right, and happens once.
      if (e instanceof ManifestConflictError) {
        this.log.warn({ namespace: ns.name }, 'another writer changed the manifest; reopening the namespace from object storage');
        this.onFenced?.(ns);
        return;
      }
      this.log.error({ namespace: ns.name, err: e }, 'index maintenance failed; will retry');
    }
  }

  /** The tail is past a size threshold (or refused writes): a flush is due now. */
  private flushDue(ns: Namespace): boolean {
    const tail = ns.memtable;
    return tail.rowCount >= this.opts.flush_docs || tail.bytes >= this.opts.flush_bytes || ns.overLimit;
  }

  /**
   * GC lists the namespace's objects, so it runs only when a commit (flush, merge, anything that
   * moved the manifest) may have made garbage: once soon after the change, and once more when
   * that garbage is past the grace period and may go. An idle namespace makes no requests (at
   * 100k namespaces a pass every gc_grace/2 was ~2,000 LIST/s, issue 9).
   */
  private gcDue(ns: Namespace, s: State): boolean {
    const now = this.now();
    const version = ns.loaded.manifest.version;
    if (version !== s.gcVersion) {
      s.gcVersion = version;
      s.changedAt = now;
      s.gcDue = true;
      s.ageOutDue = true;
    }
    const graceMs = this.opts.compaction.gc_grace_secs * 1000;
    if (s.ageOutDue && now - s.changedAt >= graceMs) return true;
    return s.gcDue && now - s.lastGc >= Math.max(graceMs, 10_000) / 2;
  }
}
