// Worker entry of the query pool (scan-pool.ts), loading scan-worker.ts through tsx's scoped
// import API as build-worker.mjs does (Node 20 does not apply the parent's loader hooks inside
// worker threads). piscina calls the default export once per scan.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport(new URL('./scan-worker.ts', import.meta.url).href, import.meta.url);
export default mod.default;
