// Makes `require('cnnviz')` and `import ... from 'cnnviz'` resolve from any notebook inside
// the repository (tslab type-checks with Node10 resolution, which ignores `exports`
// self-references): node_modules/cnnviz -> the repository root.
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '..');
const link = path.join(root, 'node_modules', 'cnnviz');
try {
  const st = fs.lstatSync(link);
  if (st.isSymbolicLink() && path.resolve(path.dirname(link), fs.readlinkSync(link)) === root) process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync('..', link, 'dir');
console.log('cnnviz: linked node_modules/cnnviz -> ' + root);
