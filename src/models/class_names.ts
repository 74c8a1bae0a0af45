/**
 * Class names to indices: exact names first, then (case-insensitive) any synonym of a class's
 * description ('tabby, tabby cat' answers to 'Tabby cat'). An unknown name gets the closest names.
 */
import type * as tf from '@tensorflow/tfjs';
import { card, classNames } from './zoo';
import { fail } from '../common';

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

function synonymsOf(model: tf.LayersModel): string[][] {
  const names = classNames(model);
  const desc = card(model).classDescriptions;
  return names.map((n, i) => {
    const full =
      Array.isArray(desc) && typeof desc[i] === 'string' ? (desc[i] as string).split(',').map((s) => s.trim()) : [];
    return [n, ...full].map((s) => s.toLowerCase()).filter((s) => s.length > 0);
  });
}

/** The `count` class names closest to `query` (containing it first, then by edit distance). */
export function closestClassNames(model: tf.LayersModel, query: string, count = 5): string[] {
  const q = query.toLowerCase();
  const names = classNames(model);
  const syn = synonymsOf(model);
  const scored = names.map((name, i) => {
    const best = Math.min(
      ...syn[i].map((s) =>
        s.includes(q) || q.includes(s) ? -1000 + Math.abs(s.length - q.length) : editDistance(q, s),
      ),
    );
    return { name, i, best };
  });
  scored.sort((a, b) => a.best - b.best || a.i - b.i);
  return scored.slice(0, count).map((s) => `'${s.name}' (${s.i})`);
}

/** Index of class `name`, or undefined. Throws when a synonym names several classes. */
export function findClass(model: tf.LayersModel, name: string, caller: string): number | undefined {
  const names = classNames(model);
  const exact = names.indexOf(name);
  if (exact >= 0 && names.lastIndexOf(name) === exact) return exact;
  const q = name.trim().toLowerCase();
  const syn = synonymsOf(model);
  const hits = syn.map((s, i) => (s.includes(q) ? i : -1)).filter((i) => i >= 0);
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) {
    const described = card(model).classDescriptions;
    const listed = hits.map((i) => `'${described ? described[i] : names[i]}' (${i})`).join(', ');
    fail(caller, `class name '${name}' is ambiguous: ${listed}; pass the class index`);
  }
  return undefined;
}
