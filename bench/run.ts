/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, whose `main(args)` prints a table
 * and writes JSON under bench/results/.
 */
import * as fs from 'fs';
import * as path from 'path';

async function run(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const available = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.js') && f !== 'run.js' && !f.startsWith('_'))
    .map((f) => f.replace(/\.js$/, ''));
  if (!name || !available.includes(name)) {
    console.error(
      `usage: npm run bench -- <name>; available: ${available.join(', ') || '(none)'}${name ? ` (got '${name}')` : ''}`,
    );
    process.exit(2);
  }
  const mod = require(path.join(__dirname, name)) as { main: (args: string[]) => Promise<void> };
  await mod.main(args);
}

run().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
