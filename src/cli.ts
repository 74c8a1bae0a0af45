#!/usr/bin/env node
/**
 * cnnviz doctor | lecture | train | serve | explore | grade | assignments (benchmarks: npm run bench, never through
 * here)
 */
import { doctorMain } from './cli/doctor';
import { exploreMain } from './cli/explore';
import { assignmentsMain, gradeMain } from './cli/grade';
import { lectureMain } from './cli/lecture';
import { serveMain } from './cli/serve';
import { trainMain } from './cli/train';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  doctor: doctorMain,
  lecture: lectureMain,
  train: trainMain,
  serve: serveMain,
  grade: gradeMain,
  assignments: assignmentsMain,
  explore: exploreMain,
};

async function main(): Promise<void> {
  const [cmd, ...args] = process.argv.slice(2);
  const run = cmd ? COMMANDS[cmd] : undefined;
  if (!run) {
    console.error(
      `usage: cnnviz <command>; commands: ${Object.keys(COMMANDS).join(', ')}${cmd ? ` (got '${cmd}')` : ''}`,
    );
    process.exit(2);
  }
  process.exitCode = await run(args);
}

main().catch((err) => {
  console.error(`cnnviz: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
