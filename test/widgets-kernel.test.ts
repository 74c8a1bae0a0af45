// The display bridge in the real cnnviz kernel (tslab), watched at the message level with
// jupyter_client: every iopub message is recorded with the request it answers, so we can
// see that progress updates sent while a later cell runs still belong to the cell that
// created the display, and that a Figure as a cell's value is one display_data, no text.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { jupyterPython, REPO } from './util/notebook';

const DRIVER = String.raw`
import json, sys, time
from jupyter_client.manager import start_new_kernel
cells = json.loads(sys.argv[1])
km, kc = start_new_kernel(kernel_name='cnnviz', cwd=sys.argv[2])
log = []
try:
    ids = []
    for code in cells:
        mid = kc.execute(code)
        ids.append(mid)
        reply = kc.get_shell_msg(timeout=120)
        while reply['parent_header'].get('msg_id') != mid:
            reply = kc.get_shell_msg(timeout=120)
        # drain iopub until this request is idle
        while True:
            m = kc.get_iopub_msg(timeout=120)
            log.append(m)
            if m['msg_type'] == 'status' and m['content']['execution_state'] == 'idle' and m['parent_header'].get('msg_id') == mid:
                break
    t_end = time.time() + 1.5
    while time.time() < t_end:
        try:
            log.append(kc.get_iopub_msg(timeout=0.3))
        except Exception:
            pass
    out = [{'type': m['msg_type'], 'parent': ids.index(m['parent_header']['msg_id']) if m['parent_header'].get('msg_id') in ids else None,
            'content': {k: v for k, v in m['content'].items() if k != 'data'}, 'mimes': sorted(m['content'].get('data', {}).keys()),
            'text': m['content'].get('data', {}).get('text/plain', m['content'].get('text', ''))} for m in log]
    print(json.dumps(out))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
`;

interface Msg { type: string; parent: number | null; content: Record<string, unknown>; mimes: string[]; text: string }

describe('widgets: display bridge in the real kernel', function () {
  this.timeout(300000);
  let msgs: Msg[];
  // seen in order: the cell that made each message, and the cell running when it came
  const running: number[] = [];

  before(() => {
    const cells = [
      `import { show, render } from 'cnnviz';
const img = { width: 8, height: 8, channels: 1, data: new Float32Array(64).map((_, i) => (i % 9) / 8) };`,
      // 1: a progress display fed by async work that outlives the cell
      `const p = show.progress({ title: 'async', total: 8 });
p.interval = 0;
(async () => { for (let i = 1; i <= 8; i++) { await new Promise((r) => setTimeout(r, 60)); p.update(i, i * i, img); } p.done(); })();
console.log('cell 1 returns at once');`,
      // 2: runs while cell 1's updates arrive
      `await new Promise((r) => setTimeout(r, 900));
console.log('cell 2 done');`,
      // 3: a Figure as the value of the cell
      `const fig = render.images([img, img]);
fig`,
      // 4: show.* as the last expression: shown once, not twice
      `show.images([img])`,
    ];
    const out = execFileSync(jupyterPython(), ['-c', DRIVER, JSON.stringify(cells), path.join(REPO, 'notebooks', 'gallery')], {
      cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'],
    });
    msgs = JSON.parse(out.trim().split('\n').pop() as string);
    let current = -1;
    for (const m of msgs) {
      if (m.type === 'status' && m.content.execution_state === 'busy' && m.parent !== null) current = m.parent;
      running.push(current);
    }
  });

  it('updates made while cell 2 runs go to cell 1 by display id', () => {
    const displays = msgs.filter((m) => m.parent === 1 && m.type === 'display_data');
    assert.strictEqual(displays.length, 1, 'one display in cell 1');
    const id = (displays[0].content.transient as { display_id: string }).display_id;
    assert.ok(id);
    const updates = msgs.map((m, i) => ({ m, during: running[i] })).filter(({ m }) => m.type === 'update_display_data');
    assert.ok(updates.length >= 8, `${updates.length} updates`);
    for (const { m } of updates) {
      assert.strictEqual(m.parent, 1, 'an update answers cell 1');
      assert.strictEqual((m.content.transient as { display_id: string }).display_id, id);
    }
    assert.ok(updates.some(({ during }) => during === 2), 'some updates arrived while cell 2 was running');
    assert.match(updates[updates.length - 1].m.text, /async · step 8 \/ 8 · score 64/);
    assert.ok(!msgs.some((m) => m.parent === 2 && /display_data/.test(m.type)), 'nothing displayed in cell 2');
  });

  it('a Figure as the value of a cell: one display_data, no text output', () => {
    for (const cell of [3, 4]) {
      const own = msgs.filter((m) => m.parent === cell);
      const shown = own.filter((m) => m.type === 'display_data' || m.type === 'execute_result');
      assert.strictEqual(shown.length, 1, `cell ${cell}: ${shown.length} displays`);
      assert.deepStrictEqual(shown[0].mimes, ['image/png', 'text/plain']);
      assert.deepStrictEqual(own.filter((m) => m.type === 'stream'), [], `cell ${cell} printed text`);
      assert.deepStrictEqual(own.filter((m) => m.type === 'error'), []);
    }
  });
});
