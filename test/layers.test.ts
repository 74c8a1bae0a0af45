// tools/check_layers.mjs, the layers of src/README.md as `npm run lint` checks them: the tree passes, and a copy of
// the tree with one import going up the diagram (common/ reaching widgets/) or a ring of two modules fails, naming
// the file.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from './util/notebook';

function check(root: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'tools', 'check_layers.mjs')], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('the layers lint (tools/check_layers.mjs)', () => {
  let copy: string;
  beforeEach(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-layers-'));
    fs.cpSync(path.join(REPO, 'src'), path.join(copy, 'src'), { recursive: true });
    fs.cpSync(path.join(REPO, 'explorer'), path.join(copy, 'explorer'), { recursive: true });
    fs.mkdirSync(path.join(copy, 'tools'));
    fs.copyFileSync(path.join(REPO, 'tools', 'check_layers.mjs'), path.join(copy, 'tools', 'check_layers.mjs'));
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterEach(() => fs.rmSync(copy, { recursive: true, force: true }));

  it('passes on the tree as it is', () => {
    const r = check(REPO);
    assert.strictEqual(r.status, 0, r.out);
    assert.match(r.out, /files of src\/ follow the layers of src\/README\.md, no import rings/);
    assert.strictEqual(check(copy).status, 0, 'the copy before any change');
  });

  it('fails on an import up the diagram and on a ring, naming the file', () => {
    const upward = path.join(copy, 'src', 'common', 'upward.ts');
    fs.writeFileSync(upward, "import { show } from '../widgets';\nexport const drawn = show;\n");
    const up = check(copy);
    assert.strictEqual(up.status, 1, up.out);
    assert.match(up.out, /src\/common\/upward\.ts:1: common\/ imports widgets\/ \('..\/widgets'\)/);
    fs.rmSync(upward);
    fs.writeFileSync(
      path.join(copy, 'src', 'common', 'ring_a.ts'),
      "import { b } from './ring_b';\nexport const a = b;\n",
    );
    fs.writeFileSync(
      path.join(copy, 'src', 'common', 'ring_b.ts'),
      "import { a } from './ring_a';\nexport const b = a;\n",
    );
    const ring = check(copy);
    assert.strictEqual(ring.status, 1, ring.out);
    assert.match(ring.out, /import ring of 2 files: src\/common\/ring_a\.ts <-> src\/common\/ring_b\.ts/);
  });
});
