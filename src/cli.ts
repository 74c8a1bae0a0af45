#!/usr/bin/env node
/**
 * cnnviz doctor | lecture | train | serve | explore | grade | assignments (benchmarks: npm run bench, never through
 * here)
 */
import { doctorMain } from './cli/doctor';
import { EXPLORE_USAGE, exploreMain } from './cli/explore';
import { ASSIGNMENTS_USAGE, assignmentsMain, GRADE_USAGE, gradeMain } from './cli/grade';
import { lectureMain } from './cli/lecture';
import { serveMain } from './cli/serve';
import { TRAIN_USAGE, trainMain } from './cli/train';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  doctor: doctorMain,
  lecture: lectureMain,
  train: trainMain,
  serve: serveMain,
  grade: gradeMain,
  assignments: assignmentsMain,
  explore: exploreMain,
};

/** What `cnnviz <command> --help` prints; --help never runs the command. */
const USAGE: Record<string, string> = {
  doctor: 'usage: cnnviz doctor [--json]: checks the backend, kernel, data and models',
  lecture:
    'usage: cnnviz lecture [NOTEBOOK.ipynb ...] [--out DIR]: executes the notebooks (default: all under ' +
    'notebooks/) and writes executed copies, HTML and an index to DIR (default: out/)',
  train: TRAIN_USAGE,
  serve: 'usage: cnnviz serve [--port N]: Jupyter Notebook on notebooks/',
  grade: GRADE_USAGE,
  assignments: ASSIGNMENTS_USAGE,
  explore: EXPLORE_USAGE,
};

async function main(): Promise<void> {
  const [cmd, ...args] = process.argv.slice(2);
  const run = cmd ? COMMANDS[cmd] : undefined;
  if (run && (args.includes('--help') || args.includes('-h'))) {
    console.log(USAGE[cmd]);
    return;
  }
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
