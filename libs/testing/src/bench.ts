// What every benchmark does at its end: its results as JSON in .data/reports (where
// `scripts/bench report` reads them), and a process that exits when it is done. Node
// built-ins only, so test/bench can import this file without the workspace package.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

/** Write a benchmark's results to .data/reports/<file>; the path, relative to the repository. */
export function writeBenchReport(file: string, results: unknown): string {
  const out = path.join(ROOT, '.data', 'reports', file);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  return path.relative(ROOT, out);
}

/**
 * Run a benchmark's `main` and exit: 0 once it has finished (connections a library keeps
 * open must not hold the process), 1 with the error on stderr.
 */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
