// Merges segments chosen by the merge policy: the live rows of the inputs are rebuilt into one
// segment (indexes included) on the node's build pool, uploaded, and handed to the segment updater.
// Rows that die while the merge runs are carried over as deletions of the output, so a merge
// never resurrects a deleted or superseded document.
import { readMergeInputs } from '../segment/index.ts';
import type { LiveSegment } from '../segment/live-segment.ts';
import type { Namespace } from '../indexer/namespace.ts';
import { newSegmentId, uploadSegment } from '../indexer/flush.ts';
import { commitSegments } from '../indexer/segment-updater.ts';
import { planMerges } from './merge-policy.ts';
import { secondsSince } from '../metrics.ts';

export interface CompactionOptions {
  max_segments: number;
  max_total_docs: number;
}

/** What the merge policy would merge now: pure and cheap, so it may be asked after every flush. */
export function mergePlan(ns: Namespace, opts: CompactionOptions): string[][] {
  return planMerges(
    ns.segments.map((s) => ({ id: s.segmentId, rows: s.rowCount, liveRows: s.size })),
    { maxSegments: opts.max_segments, maxTotalDocs: opts.max_total_docs },
  );
}

/**
 * Runs one round of the merge policy; returns the number of merges committed. The groups run one
 * after another under ns.exclusive, so a namespace has at most one merge on the build pool;
 * between two groups the round stops when `yieldTo` says something else (a flush) is due.
 */
export function compactOnce(ns: Namespace, opts: CompactionOptions, yieldTo: () => boolean = () => false): Promise<number> {
  return ns.exclusive(async () => {
    const groups = mergePlan(ns, opts);
    let merged = 0;
    for (const group of groups) {
      if (merged > 0 && yieldTo()) break;
      const inputs = group.map((id) => ns.segments.find((s) => s.segmentId === id)!);
      // The rows merged are those live now; origin[i] says where output row i came from.
      const live = inputs.map((s) => s.liveBitmap().slice());
      const origin: Array<[LiveSegment, number]> = [];
      inputs.forEach((s, i) => live[i]!.forEach((alive, row) => { if (alive === 1) origin.push([s, row]); }));
      const deadNow = () => origin.flatMap(([s, row], i) => (s.isLive(row) ? [] : [i]));
      const maxSeq = Math.max(...group.map((id) => ns.loaded.manifest.segments.find((r) => r.id === id)!.max_seq));

      const started = performance.now();
      let output = null;
      if (origin.length > 0) {
        // The rows are read out of the inputs only once a build thread is free, IVF vectors
        // block by block (readMergeInputs), never an input's whole cluster section at once.
        const { bytes, meta } = (await ns.deps.builds.build(async () => ({
          ...await readMergeInputs(inputs.map((s, i) => ({ reader: s.reader, live: live[i]! })),
            { m: ns.deps.indexing.hnsw_m, efConstruction: ns.deps.indexing.hnsw_ef_construction }, ns.schema),
          ivfFrom: ns.deps.indexing.ivf_min_rows,
        }), { transfer: true }))!;
        output = await uploadSegment(ns, newSegmentId(), bytes, meta);
      }
      // Deletions that happen during the commit are carried over by the updater.
      await commitSegments(ns, { removed: inputs, added: output && { segment: output, maxSeq, deadRows: deadNow } });
      ns.deps.metrics?.indexBuild.observe({ kind: 'merge' }, secondsSince(started));
      merged++;
    }
    return merged;
  });
}
