// Every technique by name (methods.ts), its constant lists (choices.ts) and the statistics helpers: what the
// package's own code and tests import. The top level of 'cnnviz' takes methods.ts, and the other two as namespaces.
export * from './methods';
export * from './choices';
export { spearman, pearson, ranks } from './core/stats';
