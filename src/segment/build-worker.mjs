// Worker entry of the build pool (build-pool.ts). Node 20 does not apply the parent's
// `--import tsx` loader hooks inside worker threads, so the TypeScript module is loaded through
// tsx's scoped import API: this works under `node --import tsx`, under the `tsx` CLI, and under
// plain node. piscina calls the default export once per build.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport(new URL('./build-worker.ts', import.meta.url).href, import.meta.url);
export default mod.default;
