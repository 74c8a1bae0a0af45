// Class colours: matplotlib's tab10 (Vega category10) for up to ten classes, then evenly
// spaced hues, so the same class gets the same colour in every figure.
const TAB10 = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

export function classColor(i: number, nClasses: number): string {
  if (nClasses <= TAB10.length) return TAB10[i % TAB10.length];
  return hslHex((i * 360) / nClasses, 0.65, i % 2 === 0 ? 0.45 : 0.6);
}
