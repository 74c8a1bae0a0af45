/**
 * The box each submission runs in (bubblewrap). Chosen over unshare + setpriv by hand because
 * bwrap builds the whole view from nothing: an empty tmpfs root with only the paths bound here
 * (an allow list; with unshare the host's tree is visible and must be hidden path by path), a
 * fresh /proc of its own PID namespace, --die-with-parent and --new-session, in one audited
 * command that Debian ships. What it sets up:
 *  - its own PID namespace: it sees only its own processes, cannot signal the grader, and when
 *    its first process ends the kernel kills every process left in it;
 *  - no network (a namespace with only loopback, which the Jupyter kernel's sockets need);
 *  - read-only: the system (/usr, /etc), the package's build/, node_modules/, models/ and the data
 *    folders; never teacher/, src/, .git, the report folder, other submissions or grader files;
 *  - writable: its own folder only (and a private /tmp of 256 MiB);
 *  - an unprivileged user (a uid of its own per job slot, when the grader is root; the caller's
 *    uid mapped by a user namespace otherwise), no capabilities, no_new_privs;
 *  - limits (setrlimit, inherited by every process): CPU seconds, data memory (RLIMIT_DATA
 *    counts the V8 heap, wasm memories and Buffers alike, since all are private writable
 *    mappings), file size and process count; the wall time is the grader's timer, which kills
 *    the box's first process and with it the namespace.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface SandboxLimits {
  /** Wall seconds, enforced by the grader. */
  wallS: number;
  /** CPU seconds per process. */
  cpuS: number;
  /** Memory per process, MiB (RLIMIT_DATA). */
  memoryMb: number;
  /** Largest file it may write, MiB. */
  fileMb: number;
  /** Processes of its user at once. */
  processes: number;
}

export interface SandboxPlan {
  /** The package root (bound read-only in parts). */
  root: string;
  /** The submission's own folder: the only writable path. */
  workDir: string;
  /** Read-only extras: [host path, path inside] (the data folders, the kernel spec, node_modules/cnnviz). */
  readOnly: Array<[string, string]>;
  env: Record<string, string>;
  /** Job slot (0-based): the uid is BASE_UID + slot when the grader is root. */
  slot: number;
  limits: SandboxLimits;
}

export interface SandboxRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The grader's wall timer stopped it. */
  wallKilled: boolean;
  /** Its stderr (the last 16 kB). */
  stderr: string;
  seconds: number;
}

/** Sandboxed processes run as uid BASE_UID + slot (when the grader is root): one user per slot. */
export const BASE_UID = 61000;

/** The size of the box's private /tmp, MiB. */
const TMP_MB = 256;

/** The package's parts a notebook may use. */
const PACKAGE_PARTS = ['package.json', 'build', 'node_modules', 'models', 'data-manifest.json', 'kernel-setup'];
const SYSTEM_PARTS = ['/usr', '/etc', '/opt'];

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

let probed: { ok: boolean; why: string } | undefined;

/**
 * Whether the box can be built here: Linux, bwrap installed, namespaces allowed. Tried once by
 * running `true` in a box like the real one. CNNVIZ_SANDBOX_OFF=1 says no (to try the refusal).
 */
export function sandboxAvailable(): { ok: boolean; why: string } {
  if (process.env.CNNVIZ_SANDBOX_OFF === '1') return { ok: false, why: 'turned off by CNNVIZ_SANDBOX_OFF=1' };
  if (probed) return probed;
  if (process.platform !== 'linux') return (probed = { ok: false, why: `not Linux (${process.platform})` });
  const probeDir = fs.mkdtempSync('/tmp/cnnviz-sandbox-probe-');
  try {
    const { cmd, args } = sandboxCommand(
      {
        root: probeDir,
        workDir: probeDir,
        readOnly: [],
        env: {},
        slot: 0,
        limits: { wallS: 10, cpuS: 10, memoryMb: 512, fileMb: 1, processes: 64 },
      },
      ['/bin/true'],
    );
    if (isRoot()) fs.chownSync(probeDir, BASE_UID, BASE_UID);
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20000 });
    if (r.error)
      return (probed = { ok: false, why: `${cmd} could not start (${r.error.message}); install bubblewrap` });
    if (r.status !== 0)
      return (probed = { ok: false, why: `bubblewrap failed: ${(r.stderr || '').trim().split('\n')[0] || r.status}` });
    return (probed = { ok: true, why: 'bubblewrap' });
  } finally {
    fs.rmSync(probeDir, { recursive: true, force: true });
  }
}

/** Every ancestor of p, top first ('/a', '/a/b' for '/a/b/c'). */
function ancestors(p: string): string[] {
  const parts = path.resolve(p).split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/** The command line: prlimit (limits) -> bwrap (namespaces, the view) -> setpriv (the user) -> the command. */
export function sandboxCommand(plan: SandboxPlan, command: string[]): { cmd: string; args: string[] } {
  const L = plan.limits;
  const mb = (n: number) => String(Math.round(n * 1024 * 1024));
  const prlimit = [
    `--cpu=${Math.ceil(L.cpuS)}`,
    `--data=${mb(L.memoryMb)}`,
    `--fsize=${mb(L.fileMb)}`,
    `--nproc=${L.processes}`,
    '--core=0',
  ];
  const b: string[] = ['--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  if (!isRoot()) b.push('--unshare-user');
  b.push('--die-with-parent', '--new-session', '--hostname', 'sandbox', '--tmpfs', '/');
  const dirs = new Set<string>();
  // bwrap makes missing parents 0700 when run as root: make them readable for the unprivileged user.
  const parentsOf = (p: string) => {
    for (const a of ancestors(p))
      if (!dirs.has(a)) {
        dirs.add(a);
        b.push('--perms', '0755', '--dir', a);
      }
  };
  for (const s of SYSTEM_PARTS) if (fs.existsSync(s)) b.push('--ro-bind', s, s);
  for (const l of ['bin', 'lib', 'lib64', 'sbin'])
    if (fs.existsSync(`/${l}`)) {
      const real = fs.realpathSync(`/${l}`);
      if (real !== `/${l}`) b.push('--symlink', real.replace(/^\//, ''), `/${l}`);
      else b.push('--ro-bind', `/${l}`, `/${l}`);
    }
  // A tmpfs lives in memory that RLIMIT_DATA does not count: its size is bounded here.
  b.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--size', mb(TMP_MB), '--tmpfs', '/tmp');
  const bind = (flag: string, from: string, to: string) => {
    parentsOf(to);
    b.push(flag, from, to);
  };
  for (const part of PACKAGE_PARTS) {
    const p = path.join(plan.root, part);
    if (fs.existsSync(p)) bind('--ro-bind', p, p);
  }
  for (const [from, to] of plan.readOnly) if (fs.existsSync(from)) bind('--ro-bind', from, to);
  bind('--bind', plan.workDir, plan.workDir);
  b.push('--chdir', plan.workDir, '--clearenv');
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: plan.workDir,
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    ...plan.env,
  };
  for (const [k, v] of Object.entries(env)) b.push('--setenv', k, v);
  const user = isRoot()
    ? [
        'setpriv',
        `--reuid=${BASE_UID + plan.slot}`,
        `--regid=${BASE_UID + plan.slot}`,
        '--clear-groups',
        '--no-new-privs',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--',
      ]
    : ['setpriv', '--no-new-privs', '--'];
  return { cmd: 'prlimit', args: [...prlimit, '--', 'bwrap', ...b, '--', ...user, ...command] };
}

/** Makes the folder the box's own (owned by its user when the grader is root). */
export function handOver(dir: string, slot: number): void {
  if (!isRoot()) return;
  const uid = BASE_UID + slot;
  const walk = (p: string) => {
    fs.lchownSync(p, uid, uid);
    if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
}

/** Runs `command` in the box; the wall limit kills the whole box. Never throws for what runs inside. */
export function runSandboxed(plan: SandboxPlan, command: string[]): Promise<SandboxRun> {
  const { cmd, args } = sandboxCommand(plan, command);
  return runWithWallLimit(cmd, args, plan.limits.wallS, {});
}

/** Runs a command (sandboxed or not) with a wall limit over its whole process group. */
export function runWithWallLimit(
  cmd: string,
  args: string[],
  wallS: number,
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<SandboxRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env, cwd });
    let stderr = '';
    let wallKilled = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-16000);
    });
    const timer = setTimeout(() => {
      wallKilled = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, wallS * 1000);
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, wallKilled, stderr, seconds: (Date.now() - t0) / 1000 });
    };
    child.on('error', (err) => {
      stderr += `\n${err.message}`;
      done(null, null);
    });
    child.on('close', done);
  });
}
