/**
 * The dashboard's own assets, made once per process: the browser code bundled with uPlot by the
 * project's esbuild (in memory, nothing fetched at run time) and one stylesheet (the page's,
 * uPlot's and KaTeX's with its woff2 fonts inlined as data URIs), and the HTML shells of the
 * served page and of the self-contained report.
 */
import { buildSync } from 'esbuild';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

let js: string | null = null;
let css: string | null = null;

/** The browser bundle (IIFE, minified). */
export function clientJs(): string {
  if (js === null) {
    const entry = [join(here, 'client', 'main.ts'), join(here, 'client', 'main.js')].find((p) => {
      try {
        readFileSync(p);
        return true;
      } catch {
        return false;
      }
    });
    if (!entry) throw new Error(`the dashboard's browser code is missing (${join(here, 'client', 'main.ts')})`);
    const out = buildSync({
      entryPoints: [entry],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    js = out.outputFiles[0]!.text;
  }
  return js;
}

const PAGE_CSS = `
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{display:flex;gap:1.5em;align-items:center;padding:.5em 1em;background:#1f2937;color:#fff}
header a{color:#cfe2ff;text-decoration:none;font-weight:600}header .title{font-weight:700}
#live{margin-left:auto;font-size:13px}#live.on{color:#7ee787}#live.off{color:#f0ad4e}
main{max-width:1140px;margin:0 auto;padding:.5em 1em 3em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;background:#fff}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right;vertical-align:top}
td.left,th.left{text-align:left}code{font-size:12px;word-break:break-all}
.charts{display:flex;flex-wrap:wrap;gap:8px}.chart{margin:0;background:#fff;border:1px solid #ddd;padding:4px}
.status{padding:1px 6px;border-radius:8px;font-size:12px;background:#e2e3e5}.status-running{background:#cfe2ff}.status-finished{background:#d1e7dd}.status-starting{background:#fff3cd}
.funnel{background:#fff;border:1px solid #ddd;padding:6px;max-width:1100px}
.frow{display:grid;grid-template-columns:130px 340px 60px 1fr;gap:8px;align-items:center;font-size:13px;margin:2px 0}
.fbarwrap{background:#f0f0f0;height:14px;display:block}.fbar{display:block;height:14px}
.b0{background:#6c757d}.b1{background:#3d6fb6}.b2{background:#5a9bd4}.b3{background:#c77c02}.b4{background:#8c564b}.b5{background:#2ca02c}
.fnum{text-align:right;font-variant-numeric:tabular-nums}.fnote{color:#555}
.muted{color:#777}.warn{color:#a15c00}.error{color:#b00020}.warning{border:2px solid #c00;background:#fee;padding:6px}
.tex{overflow-x:auto}.tex.big{font-size:1.2em;background:#fff;border:1px solid #ddd;padding:4px 8px}
td.formula .tex{font-size:.85em}td.formula .katex-display{margin:.2em 0}td.formula .katex-display>.katex{text-align:left}
.graph svg{max-width:100%;height:auto;background:#fff;border:1px solid #ddd}
ul.ancestry,ul.ancestry ul{list-style:none;padding-left:1.2em;border-left:1px dotted #aaa}ul.ancestry{border:0;padding:0}
button.copy{font-size:12px}.strings th{text-align:left;width:90px}
details{margin:.4em 0}
.nowrap{white-space:nowrap}.tag{display:inline-block;margin-top:2px;padding:0 5px;border-radius:8px;font-size:11px;background:#fff3cd;white-space:nowrap}
`;

/** The stylesheet: the page's, uPlot's, and KaTeX's with its woff2 fonts inlined. */
export function clientCss(): string {
  if (css === null) {
    const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    const katexDir = dirname(require.resolve('katex/dist/katex.min.css'));
    const katexCss = readFileSync(join(katexDir, 'katex.min.css'), 'utf8').replace(
      /src:(url\([^)]*\) format\("[a-z0-9]+"\),?)+/g,
      (decl) => {
        const woff2 = /url\((fonts\/[^)]+\.woff2)\)/.exec(decl);
        if (!woff2) return decl;
        const data = readFileSync(join(katexDir, woff2[1]!)).toString('base64');
        return `src:url(data:font/woff2;base64,${data}) format("woff2")`;
      },
    );
    css = `${PAGE_CSS}\n${uplotCss}\n${katexCss}`;
  }
  return css;
}

/** HTML-escapes text for element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON for a <script type="application/json"> element: no `<` (so no `</script>` or `<!--`), no U+2028/9. */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function shell(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
${head}</head>
<body><header><span class="title">cse-autoloss</span><a href="#/">Runs</a><span id="live"></span></header>
<main><p class="muted">Loading…</p></main>
${body}</body></html>
`;
}

/** The served page: assets from the server (its CSP allows only its own scripts). */
export function servedPage(title: string): string {
  return shell(title, '<link rel="stylesheet" href="assets/app.css">\n', '<script src="assets/app.js"></script>\n');
}

/** The report: everything inline, data embedded as JSON; opens from disk. */
export function reportPage(title: string, data: unknown): string {
  return shell(
    title,
    `<style>${clientCss()}</style>\n`,
    `<script type="application/json" id="cse-data">${jsonForScript(data)}</script>\n<script>${clientJs().replace(/<\/script/gi, '<\\/script')}</script>\n`,
  );
}
