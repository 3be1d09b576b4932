/** The loss and AP curves of a training run are drawn by the project's one line chart. */
export { lineChartSvg, type Series } from '../util/svg.js';
