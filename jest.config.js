/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  setupFiles: ["reflect-metadata", "<rootDir>/test/helpers/quiet-log.ts"],
  testTimeout: 30000,
  maxWorkers: 2,
};
