// The command line refuses what it does not know before it starts any work: `--help` prints the
// usage of every command (and never runs it), `cnnviz train` names a bad flag or value.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseTrainArgs, TRAIN_USAGE } from '../src/cli/train';
import { REPO } from './util/notebook';

const CLI = path.join(REPO, 'build', 'src', 'cli.js');

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli: arguments', () => {
  it('--help prints the usage of each command and runs nothing', function () {
    this.timeout(120000);
    const models = path.join(REPO, 'models', 'mnist-cnn', 'model.json');
    const before = fs.statSync(models).mtimeMs;
    for (const cmd of ['doctor', 'lecture', 'train', 'serve', 'grade', 'assignments', 'explore']) {
      const r = cli([cmd, '--help']);
      assert.strictEqual(r.code, 0, `${cmd} --help exited ${r.code}: ${r.err}`);
      assert.match(r.out, new RegExp(`^usage: cnnviz ${cmd}\\b`), `${cmd} --help printed: ${r.out}`);
    }
    assert.strictEqual(cli(['train', 'mnist-cnn', '-h']).out.trim(), TRAIN_USAGE);
    // train --help once retrained mnist-cnn and overwrote models/mnist-cnn
    assert.strictEqual(fs.statSync(models).mtimeMs, before);
  });

  it('train names an unknown flag, a missing or bad value, and the valid choices', () => {
    assert.deepStrictEqual(parseTrainArgs(['fashion-cnn', '--epochs', '2', '--threads', '1', '--seed', '-3']), {
      names: ['fashion-cnn'],
      flags: { epochs: '2', threads: '1', seed: '-3' },
    });
    const error = (args: string[]) => {
      const r = parseTrainArgs(args);
      assert.ok('error' in r, `${args.join(' ')} was accepted`);
      return r.error;
    };
    assert.match(
      error(['--epoch', '2']),
      /unknown option --epoch \(valid: --epochs, --limit, --threads, --seed, --out\)/,
    );
    assert.match(error(['--epochs']), /--epochs needs a value/);
    assert.match(error(['--epochs', '--limit', '5']), /--epochs needs a value/);
    assert.match(error(['--epochs', 'two']), /--epochs must be a positive integer, got 'two'/);
    assert.match(error(['--limit', '0']), /--limit must be a positive integer, got '0'/);
    assert.match(error(['--threads', '4']), /--threads must be 1 or 2, got '4'/);
    assert.match(error(['--seed', '1.5']), /--seed must be an integer, got '1.5'/);
  });

  it('train refuses a bad flag with exit code 2 and writes no model', function () {
    this.timeout(60000);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-train-'));
    const r = cli(['train', 'mnist-cnn', '--out', out, '--epochs', 'x']);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /cnnviz train: --epochs must be a positive integer, got 'x'/);
    assert.deepStrictEqual(fs.readdirSync(out), []);
    const unknown = cli(['train', 'resnet']);
    assert.strictEqual(unknown.code, 2);
    assert.match(unknown.err, /unknown model 'resnet'; valid: mnist-cnn, fashion-cnn, cifar-cnn/);
  });
});
