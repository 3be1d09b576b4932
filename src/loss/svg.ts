/**
 * SVG drawing of a loss's computation graph, in the style of the paper's Figure 1: inputs and
 * constants at the bottom, operators above them, the output at the top; identical subtrees are
 * drawn once (a DAG), edges run from an argument up to its operator, numbered for binary ops.
 */
import type { Expr } from './expr.js';
import { formatNumber } from './print.js';
import { escapeXml } from '../util/svg.js';

interface GNode {
  id: number;
  label: string;
  type: 'input' | 'const' | 'op';
  args: number[];
  layer: number;
  x: number;
  y: number;
  w: number;
}

const FILL = { input: '#cfe2ff', const: '#e2e3e5', op: '#ffe0b2' } as const;
const STROKE = { input: '#3d6fb6', const: '#6c757d', op: '#c77c02' } as const;

/** The graph as a standalone SVG document. `title` is drawn above it when given. */
export function printSvg(e: Expr, opts: { title?: string } = {}): string {
  const nodes: GNode[] = [];
  const ids = new Map<string, number>();
  const add = (key: string, make: () => Omit<GNode, 'id' | 'x' | 'y' | 'w'>): number => {
    const hit = ids.get(key);
    if (hit !== undefined) return hit;
    const n = { ...make(), id: nodes.length, x: 0, y: 0, w: 0 };
    nodes.push(n);
    ids.set(key, n.id);
    return n.id;
  };
  const walk = (x: Expr): number => {
    if (x.kind === 'var') return add(`v:${x.name}`, () => ({ label: x.name, type: 'input', args: [], layer: 0 }));
    if (x.kind === 'const') {
      const s = x.text ?? formatNumber(x.value);
      return add(`c:${s}`, () => ({ label: s, type: 'const', args: [], layer: 0 }));
    }
    const args = x.args.map(walk);
    const layer = 1 + Math.max(...args.map((a) => nodes[a]!.layer));
    return add(`${x.op}(${args.join(',')})`, () => ({ label: x.op, type: 'op', args, layer }));
  };
  const root = walk(e);
  const maxLayer = nodes[root]!.layer;
  const layers: GNode[][] = Array.from({ length: maxLayer + 1 }, () => []);
  for (const n of nodes) layers[n.layer]!.push(n);
  // Order: inputs first then constants in the bottom layer; barycentre sweeps upwards and downwards.
  layers[0]!.sort((a, b) => (a.type === b.type ? 0 : a.type === 'input' ? -1 : 1));
  const pos = new Map<number, number>();
  const setPos = () => layers.forEach((l) => l.forEach((n, i) => pos.set(n.id, i - (l.length - 1) / 2)));
  setPos();
  const parents = new Map<number, number[]>();
  for (const n of nodes) for (const a of n.args) parents.set(a, [...(parents.get(a) ?? []), n.id]);
  const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / Math.max(xs.length, 1);
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let l = 1; l <= maxLayer; l++) {
      layers[l]!.sort((a, b) => mean(a.args.map((i) => pos.get(i)!)) - mean(b.args.map((i) => pos.get(i)!)));
      setPos();
    }
    for (let l = maxLayer - 1; l >= 0; l--) {
      const key = (n: GNode) => (parents.has(n.id) ? mean(parents.get(n.id)!.map((i) => pos.get(i)!)) : 0);
      layers[l]!.sort((a, b) => key(a) - key(b));
      setPos();
    }
  }
  const charW = 7.5;
  const boxH = 26;
  const gapX = 24;
  const gapY = 64;
  const top = opts.title ? 44 : 20;
  for (const n of nodes) n.w = Math.max(34, n.label.length * charW + 18);
  const widths = layers.map((l) => l.reduce((s, n) => s + n.w, 0) + gapX * Math.max(l.length - 1, 0));
  const width = Math.max(...widths, opts.title ? opts.title.length * 7.5 : 0) + 40;
  layers.forEach((l, li) => {
    let x = (width - widths[li]!) / 2;
    for (const n of l) {
      n.x = x + n.w / 2;
      n.y = top + (maxLayer - li) * (boxH + gapY) + boxH / 2;
      x += n.w + gapX;
    }
  });
  const height = top + (maxLayer + 1) * (boxH + gapY) - gapY + 20;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    '<rect width="100%" height="100%" fill="white"/>',
  );
  if (opts.title)
    out.push(`<text x="${(width / 2).toFixed(1)}" y="24" text-anchor="middle" font-weight="bold">${escapeXml(opts.title)}</text>`);
  for (const n of nodes) {
    n.args.forEach((a, i) => {
      const c = nodes[a]!;
      const x1 = c.x;
      const y1 = c.y - boxH / 2;
      const x2 = n.x + (n.args.length > 1 ? (i === 0 ? -1 : 1) * Math.min(n.w / 4, 12) : 0);
      const y2 = n.y + boxH / 2;
      out.push(
        `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>`,
      );
      if (n.args.length > 1) {
        out.push(
          `<text x="${(x2 + (i === 0 ? -8 : 8)).toFixed(1)}" y="${(y2 + 12).toFixed(1)}" font-size="9" fill="#777" text-anchor="middle">${i + 1}</text>`,
        );
      }
    });
  }
  for (const n of nodes) {
    const isRoot = n.id === root;
    out.push(
      `<g><title>${escapeXml(n.type === 'op' ? `operator ${n.label}` : n.type === 'input' ? `input ${n.label}` : `constant ${n.label}`)}</title>`,
      `<rect x="${(n.x - n.w / 2).toFixed(1)}" y="${(n.y - boxH / 2).toFixed(1)}" width="${n.w.toFixed(1)}" height="${boxH}" rx="${n.type === 'op' ? 6 : 13}" fill="${FILL[n.type]}" stroke="${STROKE[n.type]}" stroke-width="${isRoot ? 2.5 : 1.2}"/>`,
      `<text x="${n.x.toFixed(1)}" y="${(n.y + 4.5).toFixed(1)}" text-anchor="middle"${n.type === 'input' ? ' font-weight="bold"' : ''}>${escapeXml(n.label)}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
