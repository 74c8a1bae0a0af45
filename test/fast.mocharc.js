// `npm test`: the fast suite, unit tests and one real-kernel smoke test (kernel.test: 00-setup through the
// cnnviz kernel), a few minutes on 2 cores. `npm run test:all` runs every file in test/, these included: the
// notebooks, the browser, the explorer, grading, the other kernel tests and the real networks. A new test file runs
// in test:all; list it here too when it takes seconds, not minutes.
const base = require('../.mocharc.json');

const FAST = [
  'backend',
  'cache',
  'cancel',
  'check',
  'check_more',
  'cli_args',
  'data',
  'data_store',
  'embeddings',
  'faults',
  'grade_judge',
  'gradient_fixes',
  'hostile_api',
  'hostile_files',
  'hostile_images',
  'hostile_widgets',
  'imagenet_sample',
  'kernel',
  'kernel_frontend',
  'kernels',
  'lecture_attribution',
  'lecture_shortforms',
  'models',
  'notebook_hygiene',
  'options',
  'perturbation_pool',
  'pool',
  'pool_faults',
  'serve',
  'techniques_architectures',
  'techniques_classvis',
  'techniques_featvis',
  'techniques_gradients',
  'techniques_inputs',
  'techniques_maps',
  'techniques_scores',
  'techniques_shap',
  'techniques_smooth_ig',
  'train',
  'train_pool',
  'widgets_bridge',
  'widgets_render',
  'widgets_show',
];

module.exports = { ...base, spec: FAST.map((name) => `build/test/${name}.test.js`) };
