import type { Command } from 'commander';

interface EvalFlags {
  gt: string;
  dt: string;
  json?: boolean;
  perClass?: boolean;
  plots?: string;
  dropUnknown?: boolean;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('COCO bbox evaluation (pycocotools semantics): prints the 12-line summary')
    .requiredOption('--gt <file>', 'ground truth, COCO instances JSON')
    .requiredOption('--dt <file>', 'detections, COCO results JSON (array of {image_id, category_id, bbox, score})')
    .option('--json', 'print an object with AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (-1 where undefined)')
    .option('--per-class', 'also print AP per class')
    .option('--plots <dir>', 'write precision-recall plots (SVG) to this folder')
    .option('--drop-unknown', 'drop detections whose image or category is not in the ground truth (counted) instead of failing')
    .action(async (flags: EvalFlags) => {
      await runEval(flags);
    });
}

async function runEval(flags: EvalFlags): Promise<void> {
  const [{ readJsonFile }, { evaluateCoco, formatSummary, validateDetections, validateGroundTruth, writePrPlots, METRIC_KEYS }] =
    await Promise.all([import('../data/json.js'), import('../eval/index.js')]);
  const gt = validateGroundTruth(await readJsonFile(flags.gt), flags.gt);
  const check = validateDetections(await readJsonFile(flags.dt), flags.dt, gt, { dropUnknown: flags.dropUnknown });
  const dropped = check.droppedUnknownImage + check.droppedUnknownCategory;
  if (dropped) {
    process.stderr.write(
      `dropped ${dropped} detection(s): ${check.droppedUnknownImage} with unknown image ids, ${check.droppedUnknownCategory} with unknown category ids\n`,
    );
  }
  const res = evaluateCoco(gt, check.dets, { perClass: flags.perClass || !!flags.plots });
  if (flags.plots) {
    const names = new Map(gt.categories.map((c) => [c.id, c.name ?? String(c.id)]));
    const files = await writePrPlots(res, flags.plots, names);
    process.stderr.write(`wrote ${files.length} precision-recall plot(s) to ${flags.plots}\n`);
  }
  if (flags.json) {
    const out: Record<string, unknown> = {};
    for (const k of METRIC_KEYS) out[k] = res.metrics[k];
    if (flags.perClass) out.perClass = res.perClass;
    process.stdout.write(JSON.stringify(out, null, 1) + '\n');
    return;
  }
  process.stdout.write(formatSummary(res.metrics) + '\n');
  if (flags.perClass && res.perClass) {
    const w = Math.max(5, ...res.perClass.map((c) => c.name.length));
    process.stdout.write(`\n${'class'.padEnd(w)}     id     gt   dets     AP   AP50   AP75  AR100\n`);
    const f = (v: number): string => (v < 0 ? '    -' : v.toFixed(3)).padStart(6);
    for (const c of res.perClass) {
      process.stdout.write(
        `${c.name.padEnd(w)} ${String(c.categoryId).padStart(6)} ${String(c.numGt).padStart(6)} ${String(c.numDets).padStart(6)} ${f(c.AP)} ${f(c.AP50)} ${f(c.AP75)} ${f(c.AR100)}\n`,
      );
    }
  }
}
