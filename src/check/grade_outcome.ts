/** What `cnnviz grade` finds: per check, per notebook, per student (read by grade.ts and grade_report.ts). */
export interface CheckOutcome {
  check: string;
  passed: boolean;
  message: string;
  seconds?: number;
}

export interface NotebookOutcome {
  student: string;
  file: string;
  assignment?: string;
  checks: CheckOutcome[];
  /** What went wrong beside the checks: edited or deleted check cells, hangs, crashes, failing cells. */
  problems: string[];
  answers: Record<string, string>;
  seconds: number;
  executed?: string;
}

export interface StudentRow {
  student: string;
  score: number;
  max: number;
  seconds: number;
  notebooks: NotebookOutcome[];
}
