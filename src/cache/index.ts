// The tiered cache: object bytes on local disk (DiskCache) under decoded structures in memory
// (MemoryCache, parts of one MemoryTier), under one node-wide MemoryBudget. Neither tier knows
// about the other or about storage; callers pass the load.

export { DiskCache, type DiskCacheStats } from './disk-cache.ts';
export { MemoryCache, MemoryTier, type MemoryCacheStats } from './memory-cache.ts';
export { MemoryBudget, NAMESPACE_SHARE, type MemoryBudgetStats } from './memory-budget.ts';
