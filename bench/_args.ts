// What the benchmarks share: reading `--name value` from their arguments, and the median of a few rounds.

/** The value after `--name` in `args`, else `dflt`. */
export function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

/** The median of a few timings (the upper one of an even count). */
export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
