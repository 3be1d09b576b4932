/** LaTeX of a loss rendered to HTML (plus MathML) by KaTeX, on the server side. */
import katex from 'katex';

/** KaTeX's HTML for `latex` (display style). Unknown input renders as an error span, never throws. */
export function renderLatex(latex: string): string {
  return katex.renderToString(latex, {
    displayMode: true,
    throwOnError: false,
    output: 'htmlAndMathml',
    trust: false,
    strict: 'ignore',
    maxExpand: 1000,
  });
}
