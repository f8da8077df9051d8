// Merges segments chosen by the merge policy: the live rows of the inputs are rebuilt into one
// segment (indexes included) on the node's build pool, uploaded, and swapped in by a manifest commit.
// Rows that die while the merge runs are carried over as deletions of the output, so a merge
// never resurrects a deleted or superseded document.
import { ManifestStore } from '../manifest/manifest.ts';
import { mergeInputs } from '../segment/index.ts';
import { LiveSegment } from '../segment/live-segment.ts';
import type { Namespace } from '../indexer/namespace.ts';
import { currentRefs, newSegmentId, segmentRef, uploadSegment } from '../indexer/flush.ts';
import { planMerges } from './merge-policy.ts';

export interface CompactionOptions {
  max_segments: number;
  max_total_docs: number;
}

/** Runs one round of the merge policy; returns the number of merges committed. */
export function compactOnce(ns: Namespace, opts: CompactionOptions): Promise<number> {
  return ns.exclusive(async () => {
    const groups = planMerges(
      ns.segments.map((s) => ({ id: s.segmentId, rows: s.rowCount, liveRows: s.size })),
      { maxSegments: opts.max_segments, maxTotalDocs: opts.max_total_docs },
    );
    let merged = 0;
    for (const group of groups) {
      const inputs = group.map((id) => ns.segments.find((s) => s.segmentId === id)!);
      // The rows merged are those live now; origin[i] says where output row i came from.
      const live = inputs.map((s) => s.liveBitmap().slice());
      const origin: Array<[LiveSegment, number]> = [];
      inputs.forEach((s, i) => live[i]!.forEach((alive, row) => { if (alive === 1) origin.push([s, row]); }));
      const deadNow = () => origin.flatMap(([s, row], i) => (s.isLive(row) ? [] : [i]));
      const maxSeq = Math.max(...group.map((id) => ns.loaded.manifest.segments.find((r) => r.id === id)!.max_seq));

      const id = newSegmentId();
      let reader = null;
      if (origin.length > 0) {
        // The rows are read out of the inputs only once a build thread is free.
        const { bytes, meta } = (await ns.deps.builds.build(() => mergeInputs(inputs.map((s, i) => ({ reader: s.reader, live: live[i]! })),
          { m: ns.deps.indexing.hnsw_m, efConstruction: ns.deps.indexing.hnsw_ef_construction }), { transfer: true }))!;
        reader = await uploadSegment(ns, id, bytes, meta);
      }
      const refs = currentRefs(ns).filter((r) => !group.includes(r.id));
      if (reader) {
        refs.push(segmentRef(ns.name, id, reader.meta, maxSeq, deadNow()));
      }
      const next = await new ManifestStore(ns.deps.store).commit(ns.name, ns.loaded, { segments: refs });
      // Swap synchronously, with deletions that happened during the commit carried over.
      const output = reader ? new LiveSegment(id, reader, deadNow()) : null;
      const at = ns.segments.findIndex((s) => s.segmentId === group[0]);
      const kept = ns.segments.filter((s) => !group.includes(s.segmentId));
      if (output) kept.splice(Math.min(at, kept.length), 0, output);
      ns.segments = kept;
      ns.loaded = next;
      for (const s of inputs) s.reader.close();
      merged++;
    }
    return merged;
  });
}
