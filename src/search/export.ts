/**
 * Export of a found loss as a standalone PyTorch module with the official wrapper semantics
 * (docs/SEARCH_SPACE.md): one Python function per primitive, generated from the primitive
 * table's PyTorch emitters and named as the primitive, so the loss's official string is itself
 * the Python expression (integer constants become floats). The module class follows
 * mmdetection's loss interface (loss_weight, reduction, weight / avg_factor /
 * reduction_override) and registers itself in mmdet's MODELS registry when mmdetection is
 * importable.
 */
import { EPS, MODE_VARS, PRIMITIVES, parseExpr, printOfficial, type Expr, type Mode } from '../loss/index.js';

/**
 * The primitives as Python functions, generated from the table: each named as the primitive,
 * its body the row's PyTorch emitter. `_primitive` turns constants (Python numbers in the
 * expression) into 0-dim tensors, so that e.g. `Sin(1.0)` works: constants are scalars
 * everywhere, as in the project's evaluators.
 */
export function pytorchPrimitives(): string {
  const defs = PRIMITIVES.map((p) => {
    const params = p.arity === 1 ? 'x' : 'a, b';
    return `@_primitive\ndef ${p.name}(${params}):\n${p.pytorch.map((l) => `    ${l}\n`).join('')}`;
  });
  return `EPS = ${EPS}


def _primitive(f):
    """Constants arrive as Python numbers; the primitives see them as 0-dim tensors."""

    @functools.wraps(f)
    def call(*args):
        return f(*[a if torch.is_tensor(a) else torch.tensor(float(a)) for a in args])

    return call


${defs.join('\n\n')}`;
}

const REDUCE = `try:
    from mmdet.models.losses.utils import weight_reduce_loss
except Exception:  # standalone use

    def weight_reduce_loss(loss, weight=None, reduction='mean', avg_factor=None):
        if weight is not None:
            loss = loss * weight
        if avg_factor is None:
            if reduction == 'mean':
                return loss.mean()
            if reduction == 'sum':
                return loss.sum()
            return loss
        if reduction == 'mean':
            return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)
        if reduction == 'none':
            return loss
        raise ValueError('avg_factor can not be used with reduction="sum"')


try:
    from mmdet.registry import MODELS

    _register = MODELS.register_module()
except Exception:
    try:
        from mmdet.models.builder import LOSSES

        _register = LOSSES.register_module()
    except Exception:

        def _register(cls):
            return cls
`;

/** A finite number as a Python float literal (`2` → `2.0`; `1e+21`, `2.5` as they are). */
function pyFloat(v: number): string {
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** Python expression text: the official string with constants as floats. */
export function pythonExpr(e: Expr): string {
  const walk = (x: Expr): string => {
    if (x.kind === 'var') return x.name;
    if (x.kind === 'const') return pyFloat(x.value);
    return `${x.op}(${x.args.map(walk).join(', ')})`;
  };
  return walk(e);
}

function className(mode: Mode): string {
  return mode === 'cls' ? 'CseAutolossCls' : mode === 'bcls' ? 'CseAutolossBcls' : 'CseAutolossReg';
}

function wrapper(mode: Mode, expr: string): string {
  const cls = className(mode);
  const params = MODE_VARS[mode].join(', ');
  if (mode === 'cls') {
    return `def searched_loss(${params}):
    return ${expr}


@_register
class ${cls}(nn.Module):
    """Multi-class softmax classification loss (two-stage box head).

    cls_score: [N, C+1] logits (background last); label: [N] in 0..C (C = background);
    iou: [N] IoU of each sample's (detached) predicted box with its ground truth (used for
    positives; None: 1). Z holds the IoU on a positive's whole row and 1 on negatives.
    """

    def __init__(self, reduction='mean', loss_weight=1.0):
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, cls_score, label, iou=None, weight=None, avg_factor=None, reduction_override=None, **kwargs):
        reduction = reduction_override if reduction_override else self.reduction
        n, k = cls_score.shape
        Y = F.one_hot(label.long(), k).float()
        pos = ((label >= 0) & (label < k - 1)).float().view(-1, 1)
        if iou is None:
            iou = torch.ones(n, device=cls_score.device)
        Z = 1 - pos + pos * iou.detach().float().view(-1, 1)
        loss = searched_loss(cls_score, Y, Z)
        if torch.is_tensor(loss) and loss.dim() == 0:
            loss = loss.expand(n)
        if weight is not None and loss.dim() == 2:
            weight = weight.float().view(-1, 1)
        elif weight is not None:
            weight = weight.float()
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)
`;
  }
  if (mode === 'bcls') {
    return `def searched_loss(${params}):
    return ${expr}


@_register
class ${cls}(nn.Module):
    """Binary sigmoid classification loss (one-stage heads).

    pred: [N, C] logits; target: [N] labels in 0..C (C = negative); iou: [N] IoU of the
    (detached) predicted box with its ground truth (None: 1). The output is multiplied by
    alpha_t = 0.25*PY + 0.75*(1 - PY) and reduced (sum / avg_factor, as focal-loss heads).
    """

    def __init__(self, reduction='mean', loss_weight=1.0, alpha=0.25):
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.alpha = alpha

    def forward(self, pred, target, iou=None, weight=None, avg_factor=None, reduction_override=None, **kwargs):
        reduction = reduction_override if reduction_override else self.reduction
        n, c = pred.shape
        PY = F.one_hot(target.long(), c + 1)[:, :c].float()
        NY = 1 - PY
        if iou is None:
            iou = torch.ones(n, device=pred.device)
        Q = PY * iou.detach().float().view(-1, 1)
        loss = searched_loss(pred, Q, PY, NY)
        if torch.is_tensor(loss) and loss.dim() < 2:
            loss = loss * torch.ones_like(pred)
        loss = loss * (self.alpha * PY + (1 - self.alpha) * NY)
        if weight is not None:
            weight = weight.float()
            if weight.dim() == 1:
                weight = weight.view(-1, 1)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)
`;
  }
  return `def searched_loss(${params}):
    return ${expr}


def box_areas(pred, target, eps=1e-7):
    """I, U, E of (x1, y1, x2, y2) boxes as the public reg_loss computes them."""
    lt = torch.max(pred[:, :2], target[:, :2])
    rb = torch.min(pred[:, 2:], target[:, 2:])
    wh = (rb - lt).clamp(min=0)
    I = wh[:, 0] * wh[:, 1]
    ap = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    ag = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    U = ap + ag - I + eps
    elt = torch.min(pred[:, :2], target[:, :2])
    erb = torch.max(pred[:, 2:], target[:, 2:])
    ewh = (erb - elt).clamp(min=0)
    E = ewh[:, 0] * ewh[:, 1] + eps
    return I, U, E


@_register
class ${cls}(nn.Module):
    """Box regression loss from intersection (I), union (U) and enclosing (E) areas.

    pred, target: [N, 4] boxes (x1, y1, x2, y2).
    """

    def __init__(self, reduction='mean', loss_weight=1.0, eps=1e-7):
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, pred, target, weight=None, avg_factor=None, reduction_override=None, **kwargs):
        reduction = reduction_override if reduction_override else self.reduction
        I, U, E = box_areas(pred, target, self.eps)
        loss = searched_loss(U, I, E)
        if torch.is_tensor(loss) and loss.dim() == 0:
            loss = loss.expand(pred.shape[0])
        if weight is not None and weight.dim() > 1:
            weight = weight.mean(-1)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)
`;
}

/** The Python module text of a loss. */
export interface ExportMeta {
  /** Where the loss comes from: a run folder and rank. */
  source?: string;
  /** The preset it names. */
  preset?: string;
  fitness?: number;
}

/** Export targets (`--to`). */
export const EXPORT_TARGETS = ['pytorch'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

/** The module text of a loss for a target. */
export function exportLoss(to: ExportTarget, mode: Mode, loss: string, meta: ExportMeta = {}): string {
  switch (to) {
    case 'pytorch':
      return exportPytorch(mode, loss, meta);
  }
}

export function exportPytorch(mode: Mode, loss: string, meta: ExportMeta = {}): string {
  const e = parseExpr(mode, loss);
  const official = printOfficial(e);
  const header = `"""Loss exported by cse-autoloss (mode ${mode}).

Official string: ${official}
${meta.preset ? `Preset: ${meta.preset}\n` : ''}${meta.source ? `Run: ${meta.source}\n` : ''}${meta.fitness !== undefined ? `Proxy fitness (AP): ${meta.fitness}\n` : ''}
Semantics follow the CSE-Autoloss public implementation: every primitive below is defined once,
named as in the official string, so the expression in \`searched_loss\` is that string.
"""
import functools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

`;
  return `${header}${pytorchPrimitives()}\n\n${REDUCE}\n\n${wrapper(mode, pythonExpr(e))}`;
}
