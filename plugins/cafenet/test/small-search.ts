/** A CafeNet search cut to a few candidates on a few images, for tests (no `.test.ts`: not a suite). */
export const SMALL_SEARCH = {
  population: 4,
  topK: 2,
  generations: 1,
  mutations: 2,
  crossovers: 2,
  recalibrationBatches: 1,
  validationBatches: 1,
  finalValidationImages: 32,
};
