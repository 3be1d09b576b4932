/** The search space: loss expressions, their evaluators, checks and variation operators. */
export type { Mode, ClsMode, Prim, UnaryPrim, BinaryPrim, PrimKind } from './primitives.js';
export { PRIMITIVES, PRIM_BY_NAME, MODES, MODE_VARS, SEARCH_CONSTANTS, primitivesFor, EPS } from './primitives.js';
export type { Expr, VarNode, ConstNode, OpNode, Shape, ExprProblem } from './expr.js';
export {
  MAX_NODES,
  treeSize,
  treeDepth,
  exprEquals,
  exprShape,
  checkExpr,
  variablesOf,
  nodePaths,
  getAt,
  replaceAt,
  couplesBatch,
} from './expr.js';
export { parseExpr, LossSyntaxError } from './parse.js';
export { printOfficial, printInfix, printLatex, formatNumber } from './print.js';
export { PRESETS, resolveLoss, LossModeError, type Preset, type ResolvedLoss } from './presets.js';
export { compileFast, runFast, Workspace, finite32, type FastProgram, type FastRun } from './fast.js';
export {
  evalTfjs,
  buildClsLoss,
  buildBclsLoss,
  buildRegLoss,
  boxAreas,
  type ClsLossInput,
  type BclsLossInput,
  type RegLossInput,
} from './tfjs.js';
export {
  convergenceChecks,
  cpvProperties,
  SATURATION_TAIL,
  CPV_PROPERTIES,
  type CpvOptions,
  type CpvResult,
  type CpvDetails,
  type PropertyResult,
} from './cpv.js';
export { cpvGridSizes } from './cpv_grids.js';
export { boxIUE, boxIUEGrad } from './box_iue.js';
export {
  randomTree,
  randomTerminal,
  RANDOM_TREE_DEFAULTS,
  mutate,
  mutateReplaceLeaf,
  mutateInsertOp,
  mutateDeleteOp,
  mutateReplaceOp,
  mutateSubtree,
  crossover,
  MUTATIONS,
  type MutationName,
  type RandomTreeOptions,
  type VariationLimits,
} from './random.js';
export { fingerprint, gradientFingerprint, simplify } from './simplify.js';
export { printSvg } from './svg.js';
