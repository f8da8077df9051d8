/** Deterministic pseudo-random numbers in [0, 1) (mulberry32, as k-means seeds with), so failures reproduce. */
export { seededRandom as rng } from '../../src/segment/kmeans.ts';
