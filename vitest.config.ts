import { defineConfig } from 'vitest/config'

// .ci/run sets AICO_VITEST_JSON to get a machine-readable summary as well.
const jsonReport = process.env.AICO_VITEST_JSON

// 2-core machine: at most two test files run at once, each in its own child
// process ('forks', the safe pool for a native addon that owns files and threads).
export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    pool: 'forks',
    poolOptions: {
      forks: { minForks: 1, maxForks: 2 },
    },
    testTimeout: 60_000,
    // New folders get the hashing embedder in tests, model fetched or not, so results do not
    // depend on the machine; __test__/vectors/default-embedder.test.ts covers the real choice.
    env: { AICO_DATA_EMBEDDER: process.env.AICO_DATA_EMBEDDER ?? 'hashing' },
    hookTimeout: 120_000,
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
  },
})
