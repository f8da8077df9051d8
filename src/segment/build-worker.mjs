// Worker entry for buildSegmentInWorker. Node 20 does not apply the parent's `--import tsx`
// loader hooks inside worker threads, so the TypeScript module is loaded through tsx's scoped
// import API: this works under `node --import tsx`, under the `tsx` CLI, and under plain node.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.module, import.meta.url);
