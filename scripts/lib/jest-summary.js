#!/usr/bin/env node
// Reads jest --json result files and prints one line: `N passed, N failed`.
// A file that is missing or unreadable counts as one failure (its phase did not report).
// scripts/chaos writes one of the same shape (.data/reports/jest-chaos.json): a test per scenario.
// Before that line it lists each failure (file, test, the first lines of its message), so a
// CI log cut short still names what failed.
const fs = require('node:fs');
const path = require('node:path');

let passed = 0;
let failed = 0;
const failures = [];
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const firstLines = (text, n) =>
  String(text ?? '')
    .replace(ANSI_COLOUR, '')
    .split('\n')
    .filter((l) => l.trim() && !/^\s+at /.test(l))
    .slice(0, n)
    .map((l) => `      ${l.trim().slice(0, 300)}`);
for (const file of process.argv.slice(2)) {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    // Suites that failed to run (syntax error, hook failure) have no failed tests: count them.
    for (const suite of r.testResults ?? []) {
      const where = path.relative(process.cwd(), suite.name ?? '?');
      for (const a of suite.assertionResults ?? [])
        if (a.status === 'failed')
          failures.push([`  ✕ ${where} › ${a.fullName ?? a.title}`, ...firstLines((a.failureMessages ?? []).join('\n'), 16)]);
      if (suite.status === 'failed' && (suite.assertionResults ?? []).every((a) => a.status !== 'failed')) {
        failed += 1;
        failures.push([`  ✕ ${where} (the suite did not run)`, ...firstLines(suite.message, 8)]);
      }
    }
  } catch {
    failed += 1;
    failures.push([`  ✕ ${file}: no readable result (its phase did not report)`]);
  }
}
if (failures.length) console.log(`failed tests:\n${failures.map((f) => f.join('\n')).join('\n')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
