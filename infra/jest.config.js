/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Never look at the synthesized assembly or the Rust workspace above us.
  modulePathIgnorePatterns: ['<rootDir>/cdk.out'],
};
