#!/usr/bin/env node
// Reads jest --json result files and prints one line: `N passed, N failed`.
// A file that is missing or unreadable counts as one failure (its phase did not report).
// scripts/chaos writes one of the same shape (.data/reports/jest-chaos.json): a test per scenario.
const fs = require('node:fs');

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    // Suites that failed to run (syntax error, hook failure) have no failed tests: count them.
    for (const suite of r.testResults ?? []) {
      if (suite.status === 'failed' && (suite.assertionResults ?? []).every((a) => a.status !== 'failed')) failed += 1;
    }
  } catch {
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
