// The tiered cache: object bytes on local disk (DiskCache) under decoded structures in memory
// (MemoryCache). Neither knows about the other or about storage; callers pass the load.

export { DiskCache, type DiskCacheStats } from './disk-cache.ts';
export { MemoryCache, type MemoryCacheStats } from './memory-cache.ts';
