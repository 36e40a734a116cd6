// Production image build step (Dockerfile): after `tsc -b`, point every workspace
// package's entry points at its compiled JavaScript (dist/src/*.js) instead of its
// TypeScript sources, so the image runs plain `node` on compiled code: no tsx, no
// TypeScript, no dev dependencies. Run from the repository root inside the build stage.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const toJs = (p) => p.replace(/^\.?\/?src\//, './dist/src/').replace(/\.ts$/, '.js');
const toDts = (p) => (p.startsWith('./dist/') ? p.replace(/\.d\.ts$/, '.ts') : p).replace(/^\.?\/?src\//, './dist/src/').replace(/\.ts$/, '.d.ts');

for (const dir of ['libs', 'services']) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name, 'package.json');
    // Only what `tsc -b services/<service>` compiled: that service and the libraries it uses.
    if (!existsSync(file) || !existsSync(path.join(dir, name, 'dist'))) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.main) pkg.main = toJs(pkg.main);
    if (pkg.types) pkg.types = toDts(pkg.types);
    if (pkg.exports) pkg.exports = Object.fromEntries(Object.entries(pkg.exports).map(([k, v]) => [k, toJs(v)]));
    for (const [entry, target] of [[pkg.main], ...Object.values(pkg.exports ?? {}).map((v) => [v])].map(([v]) => [v, v && path.join(dir, name, v)])) {
      if (target && !existsSync(target)) throw new Error(`${file}: ${entry} was not compiled (${target} missing)`);
    }
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  }
}
