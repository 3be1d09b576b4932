"""PyTorch eager twin of the detectors in src/detect, driven by bench/detectors.ts (speed) and
test/bench/twin.test.ts (equivalence).

The model and its loss are built from the resolved training config of src/detect
(`resolveTrainConfig(...)` as JSON: `model.detector`, `model.inputSize`, `model.fcos` or
`model.rcnn`, `clsLoss`, `regLoss`, `clsWeight`, `regWeight`, `schedule`), nothing hard-coded:
ResNet-18/34/50 with GroupNorm (or no norm) at the config's width (base = round(64·widthMult),
at least 4), FPN (P_minLevel..P_maxLevel; FCOS extra levels by stride-2 conv, Faster R-CNN's by
subsampling), heads. FCOS: regression ranges, centre sampling and radius, stacked convs, GN
groups, quality target (IoU or centerness) and weight, prior probability; losses focal (alpha
0.25, gamma 2) + GIoU + BCE quality. Faster R-CNN: anchors (scale, ratios), MaxIoU assignment and
random sampling of the RPN and the RoI head, NMS, pre/post-NMS counts, RoIAlign (size, sampling
ratio, finest scale; aligned), the 2-fc head (fcDim); RPN BCE + L1, RoI CE + L1. Only the
default losses are written here (FCOS focal / giou, Faster R-CNN ce / l1); another loss string
is refused. torchvision is not installed, so RoIAlign is the separable matrix form of
src/detect/roi_align.ts and NMS a batched fixed-point form of greedy NMS, both in torch ops.

The modules are named so that `state_dict()` holds exactly the ParamStore names of the TS model
("backbone.layer1.0.conv1.weight", "bbox_head.scales.0.scale", ...); `load_ts_weights` copies a
weights file written by the TS side (JSON {name: {shape, data: base64 little-endian float32}} in
the TS layouts: conv filters HWIO, fc weights [in, out], the first fc's input in (y, x, c)
order) into the model, and refuses a missing or extra name or a shape mismatch.

Protocol: argv[1] is a JSON object {threads, train: <resolved training config>, lr} and
optionally "check": {weights, batch}.
- Without "check" (the benchmark): the first stdout line is {"ready": true, "params": N} (N:
  parameter count, which the driver checks against the torch-backend model). Then each stdin
  line "STEPS" runs that many training iterations (SGD momentum, weight decay and gradient
  clipping from `schedule`, `lr` as given) on synthetic batches of `schedule.batch` images of
  `model.inputSize` px and prints {"times": [ms...], "loss": x}; "profile N" profiles N steps.
- With "check": loads the weights and one batch (JSON: images NHWC as base64 float32 with their
  shape, boxes, labels, contentSizes), runs the loss once and backward, and prints one line
  {"parts": {term: value}, "total": x, "grads": {name: L2 norm of the gradient}} (`self.parts`,
  named as the TS detector's `losses()` names its terms).
Run with Debian's python3-torch (/usr/bin/python3).
"""
import base64
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def fail(msg):
    raise SystemExit(f"bench/detectors.py: {msg}")


def group_count(c, groups):
    g = min(groups, c)
    while c % g:
        g -= 1
    return g


def make_norm(kind, c, groups):
    if kind == "gn":
        return nn.GroupNorm(group_count(c, groups), c)
    if kind == "none":
        return nn.Identity()
    fail(f"backbone norm {kind!r} has no twin here (gn, none)")


def conv(cin, cout, k, stride=1, bias=True):
    return nn.Conv2d(cin, cout, k, stride, k // 2, bias=bias)


class Basic(nn.Module):
    def __init__(self, cin, planes, stride, norm, groups):
        super().__init__()
        self.conv1 = conv(cin, planes, 3, stride, bias=False)
        self.bn1 = make_norm(norm, planes, groups)
        self.conv2 = conv(planes, planes, 3, bias=False)
        self.bn2 = make_norm(norm, planes, groups)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(conv(cin, planes, 1, stride, bias=False), make_norm(norm, planes, groups))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride, norm, groups):
        super().__init__()
        out = planes * 4
        self.conv1 = conv(cin, planes, 1, bias=False)
        self.bn1 = make_norm(norm, planes, groups)
        self.conv2 = conv(planes, planes, 3, stride, bias=False)  # stride on the 3x3 (v1.5)
        self.bn2 = make_norm(norm, planes, groups)
        self.conv3 = conv(planes, out, 1, bias=False)
        self.bn3 = make_norm(norm, out, groups)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(conv(cin, out, 1, stride, bias=False), make_norm(norm, out, groups))

    def forward(self, x):
        y = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


STAGES = {18: (Basic, [2, 2, 2, 2], 1), 34: (Basic, [3, 4, 6, 3], 1), 50: (Bottleneck, [3, 4, 6, 3], 4)}


class ResNet(nn.Module):
    """backbone.ts buildBackbone: stem 7x7/2, norm, max-pool 3/2, four stages; C2..C5."""

    def __init__(self, cfg):
        super().__init__()
        if cfg["depth"] not in STAGES:
            fail(f"backbone depth {cfg['depth']} has no twin here")
        block, blocks, expansion = STAGES[cfg["depth"]]
        norm, groups = cfg["norm"], cfg["gnGroups"]
        base = max(4, math.floor(64 * cfg["widthMult"] + 0.5))  # JS Math.round
        self.conv1 = conv(3, base, 7, 2, bias=False)
        self.bn1 = make_norm(norm, base, groups)
        cin, self.channels = base, []
        for s in range(4):
            planes = base * 2 ** s
            layer = []
            for b in range(blocks[s]):
                layer.append(block(cin, planes, 2 if b == 0 and s > 0 else 1, norm, groups))
                cin = planes * expansion
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
            self.channels.append(cin)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        outs = []
        for s in range(4):
            x = getattr(self, f"layer{s + 1}")(x)
            outs.append(x)
        return outs


class FPN(nn.Module):
    """backbone.ts buildFpn: lateral 1x1 on C_min..C5, nearest top-down, 3x3 outputs; levels above
    P5 by a stride-2 3x3 conv on the previous output ('conv', ReLU before all but the first) or by
    subsampling ('pool')."""

    def __init__(self, chans, out, min_level, max_level, extra):
        super().__init__()
        self.min_level, self.max_level, self.extra = min_level, max_level, extra
        used = list(range(min_level, 6))
        self.lateral_convs = nn.ModuleList([conv(chans[l - 2], out, 1) for l in used])
        convs = [conv(out, out, 3) for l in used if l <= max_level]
        self.n_out = len(convs)
        self.n_extra = max(0, max_level - 5)
        if extra == "conv":
            convs += [conv(out, out, 3, 2) for _ in range(self.n_extra)]
        self.fpn_convs = nn.ModuleList(convs)

    def forward(self, c):
        lat = [m(c[l - 2]) for m, l in zip(self.lateral_convs, range(self.min_level, 6))]
        for i in range(len(lat) - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[-2:], mode="nearest")
        p = [self.fpn_convs[i](lat[i]) for i in range(self.n_out)]
        prev = p[-1]
        for e in range(self.n_extra):
            if self.extra == "conv":
                prev = self.fpn_convs[self.n_out + e](F.relu(prev) if e > 0 else prev)
            else:
                prev = prev[:, :, ::2, ::2]  # max-pool 1x1, stride 2
            p.append(prev)
        return p[: self.max_level - self.min_level + 1]


def giou_terms(p, t):
    lt = torch.max(p[:, :2], t[:, :2]); rb = torch.min(p[:, 2:], t[:, 2:])
    wh = (rb - lt).clamp(min=0); inter = wh[:, 0] * wh[:, 1]
    ap = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1]); at = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    union = ap + at - inter + 1e-7
    elt = torch.min(p[:, :2], t[:, :2]); erb = torch.max(p[:, 2:], t[:, 2:])
    ewh = (erb - elt).clamp(min=0); enc = ewh[:, 0] * ewh[:, 1] + 1e-7
    return inter, union, enc


def check_losses(train, cls, reg):
    if train["clsLoss"] != cls or train["regLoss"] != reg:
        fail(f"the twin of {train['model']['detector']} implements clsLoss {cls!r} and regLoss {reg!r} only; "
             f"the config asks for {train['clsLoss']!r} and {train['regLoss']!r}")


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))


class FCOS(nn.Module):
    """fcos.ts buildFcos with its config (model.fcos) and the loss weights of the training config."""

    def __init__(self, train):
        super().__init__()
        check_losses(train, "focal", "giou")
        cfg = train["model"]["fcos"]
        self.cfg = cfg
        self.C = C = cfg["numClasses"]
        self.cls_weight, self.reg_weight, self.q_weight = train["clsWeight"], train["regWeight"], cfg["qualityWeight"]
        self.backbone = ResNet(cfg["backbone"])
        ch = cfg["fpnChannels"]
        self.neck = FPN(self.backbone.channels, ch, cfg["minLevel"], cfg["maxLevel"], "conv")
        self.strides = [2 ** l for l in range(cfg["minLevel"], cfg["maxLevel"] + 1)]
        if len(cfg["regressRanges"]) != len(self.strides):
            fail(f"fcos.regressRanges has {len(cfg['regressRanges'])} ranges for {len(self.strides)} levels")
        self.bbox_head = FcosHead(ch, C, cfg["stackedConvs"], cfg["gnGroups"], len(self.strides), cfg["priorProb"])
        self.parts = {}

    def loss(self, images, boxes, labels, content=None, gen=None):
        cfg, h_ = self.cfg, self.bbox_head
        feats = self.neck(self.backbone(images))
        B, C = images.shape[0], self.C
        cls_l, reg_l, q_l, pts, strides, rng = [], [], [], [], [], []
        for i, f in enumerate(feats):
            c, r = f, f
            for m in h_.cls_convs:
                c = F.relu(m.gn(m.conv(c)))
            for m in h_.reg_convs:
                r = F.relu(m.gn(m.conv(r)))
            h, w = f.shape[-2:]
            cls_l.append(h_.conv_cls(c).permute(0, 2, 3, 1).reshape(B, -1, C))
            reg_l.append(F.relu(h_.conv_reg(r) * h_.scales[i].scale).permute(0, 2, 3, 1).reshape(B, -1, 4))
            q_l.append(h_.conv_centerness(r).permute(0, 2, 3, 1).reshape(B, -1))  # centerness on the reg tower
            s = self.strides[i]
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
            pts.append(torch.stack([xs.reshape(-1) * s + s // 2, ys.reshape(-1) * s + s // 2], 1).float())
            strides.append(torch.full((h * w,), float(s)))
            rng.append(torch.tensor(cfg["regressRanges"][i], dtype=torch.float32).expand(h * w, 2))
        cls, reg, q = torch.cat(cls_l, 1), torch.cat(reg_l, 1), torch.cat(q_l, 1)
        pts, strides, rng = torch.cat(pts), torch.cat(strides), torch.cat(rng)
        P = pts.shape[0]
        lab_all, pos_pred, pos_tgt, pos_q, pos_ltrb = [], [], [], [], []
        for b in range(B):
            g, gl = boxes[b], labels[b]
            lab = torch.full((P,), C, dtype=torch.long)
            if g.shape[0]:
                x, y = pts[:, 0:1], pts[:, 1:2]
                ltrb = torch.stack([x - g[:, 0], y - g[:, 1], g[:, 2] - x, g[:, 3] - y], 2)  # [P, G, 4]
                if cfg["centerSampling"]:
                    cx, cy = (g[:, 0] + g[:, 2]) / 2, (g[:, 1] + g[:, 3]) / 2
                    rad = strides[:, None] * cfg["centerSampleRadius"]
                    cx1 = torch.max(cx - rad, g[:, 0]); cy1 = torch.max(cy - rad, g[:, 1])
                    cx2 = torch.min(cx + rad, g[:, 2]); cy2 = torch.min(cy + rad, g[:, 3])
                    inside = torch.stack([x - cx1, y - cy1, cx2 - x, cy2 - y], 2).min(2).values > 0
                else:
                    inside = ltrb.min(2).values > 0
                m = ltrb.max(2).values
                ok = inside & (m >= rng[:, 0:1]) & (m <= rng[:, 1:2])
                area = ((g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])).expand(P, -1).clone()
                area[~ok] = float("inf")
                best_area, best = area.min(1)  # smallest area, ties: the first GT
                pos = best_area < float("inf")
                lab[pos] = gl[best[pos]]
                pi = pos.nonzero()[:, 0]
                pr = reg[b, pi] * strides[pi, None]
                pp = pts[pi]
                pos_pred.append(torch.cat([pp - pr[:, :2], pp + pr[:, 2:]], 1))
                pos_tgt.append(g[best[pi]])
                pos_q.append(q[b, pi])
                pos_ltrb.append(ltrb[pi, best[pi]])
            lab_all.append(lab)
        labels_flat = torch.cat(lab_all)
        logits = cls.reshape(-1, C)
        pred = torch.cat(pos_pred) if pos_pred else torch.zeros(0, 4)
        tgt = torch.cat(pos_tgt) if pos_tgt else torch.zeros(0, 4)
        npos = max(1, pred.shape[0])
        onehot = F.one_hot(labels_flat, C + 1)[:, :C].float()
        p = torch.sigmoid(logits)
        focal = onehot * (1 - p) ** 2 * F.softplus(-logits) + (1 - onehot) * p ** 2 * F.softplus(logits)
        alpha = 0.25 * onehot + 0.75 * (1 - onehot)
        l_cls = (alpha * focal).sum() / npos
        if pred.shape[0]:
            ql = torch.cat(pos_q)
            inter, union, enc = giou_terms(pred, tgt)
            l_reg = (1 - inter / union + (enc - union) / enc).sum() / npos
            if cfg["qualityTarget"] == "iou":
                qt = iou_paired(pred.detach(), tgt)  # boxes.ts iouPaired (no eps)
            else:
                lt = torch.cat(pos_ltrb)
                qt = torch.sqrt(torch.min(lt[:, 0], lt[:, 2]) / torch.max(lt[:, 0], lt[:, 2])
                                * torch.min(lt[:, 1], lt[:, 3]) / torch.max(lt[:, 1], lt[:, 3]))
            l_q = F.binary_cross_entropy_with_logits(ql, qt, reduction="sum") / npos
        else:
            l_reg, l_q = reg.sum() * 0, q.sum() * 0
        # the loss terms, named as fcos.ts losses() names them (read by the equivalence test)
        self.parts = {"cls": l_cls.detach(), "reg": l_reg.detach(), "quality": l_q.detach()}
        return self.cls_weight * l_cls + self.reg_weight * l_reg + self.q_weight * l_q


class ConvGn(nn.Module):
    def __init__(self, ch, groups):
        super().__init__()
        self.conv = conv(ch, ch, 3, bias=False)
        self.gn = nn.GroupNorm(group_count(ch, groups), ch)


class FcosHead(nn.Module):
    def __init__(self, ch, C, stacked, groups, levels, prior):
        super().__init__()
        self.cls_convs = nn.ModuleList([ConvGn(ch, groups) for _ in range(stacked)])
        self.reg_convs = nn.ModuleList([ConvGn(ch, groups) for _ in range(stacked)])
        self.conv_cls = conv(ch, C, 3)
        self.conv_reg = conv(ch, 4, 3)
        self.conv_centerness = conv(ch, 1, 3)
        self.scales = nn.ModuleList([Scale() for _ in range(levels)])
        # the TS initialisation of the head (normal 0.01, prior-probability bias, reg bias 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.constant_(self.conv_cls.bias, -math.log((1 - prior) / prior))
        nn.init.constant_(self.conv_reg.bias, 1.0)


# ---------------------------------------------------------------- Faster R-CNN (src/detect/faster_rcnn.ts)

MAX_DWH = math.log(1000 / 16)  # boxes.ts MAX_DELTA_WH
RPN_STDS = (1.0, 1.0, 1.0, 1.0)
RCNN_STDS = (0.1, 0.1, 0.2, 0.2)


def box_iou(a, b):
    """IoU of every box in a [..., N, 4] with every box in b [..., M, 4] -> [..., N, M] (0 without overlap)."""
    area_a = (a[..., 2] - a[..., 0]).clamp(min=0) * (a[..., 3] - a[..., 1]).clamp(min=0)
    area_b = (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)
    lt = torch.max(a[..., :, None, :2], b[..., None, :, :2])
    rb = torch.min(a[..., :, None, 2:], b[..., None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[..., :, None] + area_b[..., None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def iou_paired(a, b):
    lt = torch.max(a[:, :2], b[:, :2]); rb = torch.min(a[:, 2:], b[:, 2:])
    wh = (rb - lt).clamp(min=0); inter = wh[:, 0] * wh[:, 1]
    union = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0) + (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0) - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def encode(anchors, gt, stds):
    pw = anchors[..., 2] - anchors[..., 0]; ph = anchors[..., 3] - anchors[..., 1]
    px = anchors[..., 0] + 0.5 * pw; py = anchors[..., 1] + 0.5 * ph
    gw = gt[..., 2] - gt[..., 0]; gh = gt[..., 3] - gt[..., 1]
    gx = gt[..., 0] + 0.5 * gw; gy = gt[..., 1] + 0.5 * gh
    d = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph)], -1)
    return d / d.new_tensor(stds)


def decode(anchors, deltas, stds, clip=None):
    """clip: (width, height) as tensors broadcastable to deltas[..., 0]."""
    pw = anchors[..., 2] - anchors[..., 0]; ph = anchors[..., 3] - anchors[..., 1]
    px = anchors[..., 0] + 0.5 * pw; py = anchors[..., 1] + 0.5 * ph
    d = deltas * deltas.new_tensor(stds)
    dw = d[..., 2].clamp(-MAX_DWH, MAX_DWH); dh = d[..., 3].clamp(-MAX_DWH, MAX_DWH)
    cx = px + d[..., 0] * pw; cy = py + d[..., 1] * ph
    w = pw * torch.exp(dw); h = ph * torch.exp(dh)
    x1, y1, x2, y2 = cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h
    if clip is not None:
        cw, ch = clip
        x1 = torch.min(x1.clamp(min=0), cw); x2 = torch.min(x2.clamp(min=0), cw)
        y1 = torch.min(y1.clamp(min=0), ch); y2 = torch.min(y2.clamp(min=0), ch)
    return torch.stack([x1, y1, x2, y2], -1)


def level_anchors(h, w, stride, scale, ratios):
    """[h·w·A, 4], location-major (y, x, then ratio), centred at (i + 0.5)·stride (faster_rcnn.ts levelAnchors)."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    cx = ((xs + 0.5) * stride)[..., None]; cy = ((ys + 0.5) * stride)[..., None]
    hr = torch.tensor(ratios, dtype=torch.float64).sqrt()
    aw = scale * stride / hr; ah = scale * stride * hr
    return torch.stack([cx - aw / 2, cy - ah / 2, cx + aw / 2, cy + ah / 2], -1).reshape(-1, 4).float()


def max_iou_assign(cand, gt, pos_iou, neg_iou, min_pos_iou, low_quality):
    """mmdetection's MaxIoUAssigner as faster_rcnn.ts maxIouAssign: GT index, -1 negative, -2 ignored."""
    n, g = cand.shape[0], gt.shape[0]
    if g == 0:
        return torch.full((n,), -1, dtype=torch.long)
    iou = box_iou(cand, gt)
    m, a = iou.max(1)
    assigned = torch.where(m >= pos_iou, a, torch.where(m < neg_iou, torch.full_like(a, -1), torch.full_like(a, -2)))
    if low_quality:
        best = iou.max(0).values
        for j, bj in enumerate(best.tolist()):
            if bj >= min_pos_iou:
                assigned[iou[:, j] == bj] = j
    return assigned


def random_sample(assigned, num, pos_fraction, gen):
    """Up to num·posFraction positives, negatives fill the rest; sorted indices (randomSample)."""
    pos = (assigned >= 0).nonzero()[:, 0]
    neg = (assigned == -1).nonzero()[:, 0]
    n_pos = min(pos.numel(), int(math.floor(num * pos_fraction)))
    if pos.numel() > n_pos:
        pos = pos[torch.randperm(pos.numel(), generator=gen)[:n_pos]].sort().values
    n_neg = min(neg.numel(), num - pos.numel())
    if neg.numel() > n_neg:
        neg = neg[torch.randperm(neg.numel(), generator=gen)[:n_neg]].sort().values
    return pos, neg


def nms_keep(boxes, valid, thr):
    """Greedy NMS of boxes [B, k, 4] already in score order (highest first) -> keep mask [B, k].

    Box j is suppressed when a kept box i < j has IoU > thr (boxes.ts nms). The greedy result is the
    unique fixed point of keep[j] = valid[j] and not any(keep[i] and over[i, j], i < j); iterating it
    from keep = valid reaches that point exactly (each pass fixes at least one more leading box), so
    it is computed with batched matrix products instead of a Python loop over boxes.
    IoU > thr is tested as inter·(1 + thr) > thr·(area_i + area_j), the same inequality without a
    division (union = area_i + area_j - inter; no overlap: inter = 0, never above).
    """
    k = boxes.shape[1]
    x1, y1, x2, y2 = boxes.unbind(-1)
    area = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    iw = torch.min(x2[:, :, None], x2[:, None, :]).sub_(torch.max(x1[:, :, None], x1[:, None, :])).clamp_(min=0)
    ih = torch.min(y2[:, :, None], y2[:, None, :]).sub_(torch.max(y1[:, :, None], y1[:, None, :])).clamp_(min=0)
    inter = iw.mul_(ih).mul_(1 + thr)
    over = inter > (area[:, :, None] + area[:, None, :]).mul_(thr)
    over &= torch.ones(k, k, dtype=torch.bool).triu_(1)
    over &= valid[:, :, None]
    overf = over.float()
    keep = valid.clone()
    for _ in range(k + 1):
        sup = torch.bmm(keep.float()[:, None, :], overf)[:, 0] > 0
        new = valid & ~sup
        if torch.equal(new, keep):
            break
        keep = new
    return keep


def axis_weights(start, extent, S, sr, size):
    """[n, S, size]: per RoI the summed 1/sr-scaled linear-interpolation weights of the sr samples of
    each bin along one axis (roi_align.ts axisWeights: zero outside [-1, size], clamped at 0 and size-1)."""
    n = start.shape[0]
    bin_ = (extent / S)[:, None, None]
    p = torch.arange(S, dtype=start.dtype)[None, :, None]
    i = torch.arange(sr, dtype=start.dtype)[None, None, :]
    v = start[:, None, None] + p * bin_ + (i + 0.5) * bin_ / sr  # [n, S, sr]
    ok = ((v >= -1) & (v <= size)).to(start.dtype)
    v = v.clamp(min=0)
    lo = v.floor()
    edge = lo >= size - 1
    lo = torch.where(edge, torch.full_like(lo, size - 1), lo)
    v = torch.where(edge, lo, v)
    hi = torch.where(edge, lo, lo + 1)
    l = v - lo
    out = torch.zeros(n, S, size, dtype=start.dtype)
    out.scatter_add_(2, lo.long(), (1 - l) / sr * ok)
    out.scatter_add_(2, hi.long(), l / sr * ok)
    return out


def multi_level_roi_align(feats, strides, rois, roi_b, finest_scale, S, sr):
    """RoIAlign (aligned=True) of each RoI on its mapped level (mapRoiLevels), in the separable
    matrix form of roi_align.ts: per (level, image) out = Ay · f · Axᵀ as two matrix products.
    feats: per level [B, C, H, W]; rois [R, 4] (input px); roi_b [R] -> [R, C, S, S]."""
    R = rois.shape[0]
    L = len(feats)
    side = ((rois[:, 2] - rois[:, 0]).clamp(min=0) * (rois[:, 3] - rois[:, 1]).clamp(min=0)).sqrt()
    lvl = torch.floor(torch.log2(side / finest_scale + 1e-6)).clamp(0, L - 1).long() if L > 1 else torch.zeros(R, dtype=torch.long)
    parts, order = [], []
    for l, f in enumerate(feats):
        B, C, H, W = f.shape
        scale = 1.0 / strides[l]
        for b in range(B):
            idx = ((lvl == l) & (roi_b == b)).nonzero()[:, 0]
            n = idx.numel()
            if n == 0:
                continue
            r = rois[idx] * scale - 0.5
            ay = axis_weights(r[:, 1], r[:, 3] - r[:, 1], S, sr, H)  # [n, S, H]
            ax = axis_weights(r[:, 0], r[:, 2] - r[:, 0], S, sr, W)  # [n, S, W]
            t = f[b].reshape(C * H, W) @ ax.reshape(n * S, W).t()  # [C·H, n·px]
            t = t.reshape(C, H, n, S).permute(2, 1, 0, 3).reshape(n, H, C * S)  # [n, H, C·px]
            o = torch.bmm(ay, t).reshape(n, S, C, S).permute(0, 2, 1, 3)  # [n, C, py, px]
            parts.append(o)
            order.append(idx)
    stacked = torch.cat(parts)
    order = torch.cat(order)
    inverse = torch.empty(R, dtype=torch.long)
    inverse[order] = torch.arange(R)
    return stacked[inverse]


class RpnHead(nn.Module):
    def __init__(self, ch, A):
        super().__init__()
        self.rpn_conv = conv(ch, ch, 3)
        self.rpn_cls = conv(ch, A, 1)
        self.rpn_reg = conv(ch, 4 * A, 1)


class BoxHead(nn.Module):
    def __init__(self, S, ch, fc, C):
        super().__init__()
        self.shared_fcs = nn.ModuleList([nn.Linear(S * S * ch, fc), nn.Linear(fc, fc)])
        self.fc_cls = nn.Linear(fc, C + 1)
        self.fc_reg = nn.Linear(fc, 4 * C)


class RoiHead(nn.Module):
    def __init__(self, S, ch, fc, C):
        super().__init__()
        self.bbox_head = BoxHead(S, ch, fc, C)


class FasterRCNN(nn.Module):
    """faster_rcnn.ts buildFasterRcnn with its config (model.rcnn) and the loss weights of the training config."""

    def __init__(self, train):
        super().__init__()
        check_losses(train, "ce", "l1")
        cfg = train["model"]["rcnn"]
        self.cfg = cfg
        self.C = C = cfg["numClasses"]
        self.cls_weight, self.reg_weight = train["clsWeight"], train["regWeight"]
        ch = cfg["fpnChannels"]
        self.backbone = ResNet(cfg["backbone"])
        self.neck = FPN(self.backbone.channels, ch, cfg["minLevel"], cfg["maxLevel"], "pool")
        self.strides = [2 ** l for l in range(cfg["minLevel"], cfg["maxLevel"] + 1)]
        self.roi_levels = min(len(self.strides), max(1, 5 - cfg["minLevel"] + 1))  # RoIs pooled from P_min..P5
        self.ratios = cfg["anchorRatios"]
        self.anchor_scale = cfg["anchorScale"]
        self.rpn_head = RpnHead(ch, len(self.ratios))
        self.S, self.sr, self.finest = cfg["roiSize"], cfg["samplingRatio"], cfg["finestScale"]
        self.roi_head = RoiHead(self.S, ch, cfg["fcDim"], C)
        self._anchors = {}
        self.parts = {}
        # the TS initialisation (layers.ts Init), so proposals start from the same kind of outputs
        for m in list(self.backbone.modules()):
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for m in self.neck.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)
        bh = self.roi_head.bbox_head
        rh = self.rpn_head
        for m, std in ((rh.rpn_conv, 0.01), (rh.rpn_cls, 0.01), (rh.rpn_reg, 0.01), (bh.fc_cls, 0.01), (bh.fc_reg, 0.001)):
            nn.init.normal_(m.weight, 0, std); nn.init.zeros_(m.bias)
        for m in bh.shared_fcs:
            nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)

    def anchors_for(self, shapes):
        key = tuple(shapes)
        if key not in self._anchors:
            self._anchors[key] = [level_anchors(h, w, s, self.anchor_scale, self.ratios) for (h, w), s in zip(shapes, self.strides)]
        return self._anchors[key]

    @torch.no_grad()
    def proposals(self, objs, dels, anchors, content, pre_nms, max_num, nms_iou):
        """Per image: per-level top pre_nms by objectness, decode, clip, drop empty boxes, NMS
        within each level, then the top max_num by score over all levels (batchedNms with level ids)."""
        B = objs[0].shape[0]
        boxes_l, scores_l, keep_l = [], [], []
        for o, d, an in zip(objs, dels, anchors):
            k = min(pre_nms, o.shape[1])
            top = torch.sort(o, dim=1, descending=True, stable=True).indices[:, :k]  # ties: lower index first
            dec = decode(an[top], d.gather(1, top[..., None].expand(-1, -1, 4)), RPN_STDS, (content[:, 0:1], content[:, 1:2]))
            valid = (dec[..., 2] - dec[..., 0] > 0) & (dec[..., 3] - dec[..., 1] > 0)
            boxes_l.append(dec)
            scores_l.append(torch.sigmoid(o.gather(1, top)))
            keep_l.append(nms_keep(dec, valid, nms_iou))
        out = []
        for b in range(B):
            bx = torch.cat([x[b][k[b]] for x, k in zip(boxes_l, keep_l)])
            sc = torch.cat([x[b][k[b]] for x, k in zip(scores_l, keep_l)])
            order = torch.sort(sc, dim=0, descending=True, stable=True).indices[:max_num]
            out.append(bx[order])
        return out

    def loss(self, images, boxes, labels, content, gen):
        """content: [B, 2] (width, height) of each image's real content."""
        cfg, C, B = self.cfg, self.C, images.shape[0]
        feats = self.neck(self.backbone(images))
        rh = self.rpn_head
        objs, dels = [], []
        for f in feats:
            h = F.relu(rh.rpn_conv(f))
            objs.append(rh.rpn_cls(h).permute(0, 2, 3, 1).reshape(B, -1))  # (y, x, anchor)
            dels.append(rh.rpn_reg(h).permute(0, 2, 3, 1).reshape(B, -1, 4))
        anchors_l = self.anchors_for([tuple(f.shape[-2:]) for f in feats])
        anchors = torch.cat(anchors_l)
        nA = anchors.shape[0]
        obj = torch.cat(objs, 1).reshape(-1)
        delta = torch.cat(dels, 1).reshape(-1, 4)

        # ---- RPN (rpn.ts rpnTargets, rpnLoss): MaxIoU assignment, sampled anchors, BCE + L1 over the sampled count
        rows, rlab, prow, ptgt = [], [], [], []
        with torch.no_grad():
            for b in range(B):
                asg = max_iou_assign(anchors, boxes[b], cfg["rpnPosIou"], cfg["rpnNegIou"], cfg["rpnMinPosIou"], True)
                pos, neg = random_sample(asg, cfg["rpnBatch"], cfg["rpnPosFraction"], gen)
                ptgt.append(encode(anchors[pos], boxes[b][asg[pos]], RPN_STDS))
                prow.append(b * nA + pos)
                rows += [b * nA + pos, b * nA + neg]
                rlab += [torch.ones(pos.numel()), torch.zeros(neg.numel())]
        rows, rlab, prow, ptgt = torch.cat(rows), torch.cat(rlab), torch.cat(prow), torch.cat(ptgt)
        n_sampled = max(1, rows.numel())
        s = obj[rows]
        rpn_cls = (F.softplus(s) - s * rlab).sum() / n_sampled
        rpn_reg = (delta[prow] - ptgt).abs().sum() / n_sampled if prow.numel() else delta.sum() * 0

        # ---- proposals (no gradient), RoI sampling with the GT boxes added to the candidates (roi_heads.ts sampleRois)
        props = self.proposals([o.detach() for o in objs], [d.detach() for d in dels], anchors_l, content,
                               cfg["rpnPreNmsTrain"], cfg["rpnPostNmsTrain"], cfg["rpnNmsIou"])
        rois, roi_b, roi_lab, pos_rows, pos_gt = [], [], [], [], []
        n_rois = 0
        with torch.no_grad():
            for b in range(B):
                gt, gl = boxes[b], labels[b]
                cand = torch.cat([props[b], gt])
                asg = max_iou_assign(cand, gt, cfg["roiPosIou"], cfg["roiPosIou"], cfg["roiPosIou"], False)
                pos, neg = random_sample(asg, cfg["roiBatch"], cfg["roiPosFraction"], gen)
                rois += [cand[pos], cand[neg]]
                roi_b.append(torch.full((pos.numel() + neg.numel(),), b, dtype=torch.long))
                roi_lab += [gl[asg[pos]], torch.full((neg.numel(),), C, dtype=torch.long)]
                pos_rows.append(n_rois + torch.arange(pos.numel()))
                pos_gt.append(gt[asg[pos]])
                n_rois += pos.numel() + neg.numel()
        rois, roi_b, roi_lab = torch.cat(rois), torch.cat(roi_b), torch.cat(roi_lab)
        pos_rows, pos_gt = torch.cat(pos_rows), torch.cat(pos_gt)
        R = rois.shape[0]
        L = self.roi_levels
        pooled = multi_level_roi_align(feats[:L], self.strides[:L], rois, roi_b, self.finest, self.S, self.sr)
        bh = self.roi_head.bbox_head
        x = F.relu(bh.shared_fcs[1](F.relu(bh.shared_fcs[0](pooled.reshape(R, -1)))))
        cls, reg = bh.fc_cls(x), bh.fc_reg(x)  # [R, C+1], [R, 4C]

        # ---- box head (roi_heads.ts roiHeadLosses): L1 on the class-specific deltas of positives / R; 'ce'
        n_pos = pos_rows.numel()
        iou_all = torch.zeros(R)  # the Z input of cls-mode losses (unused by 'ce'; computed as the TS model does, for the benchmark)
        if n_pos:
            pos_deltas = reg.reshape(-1, 4)[pos_rows * C + roi_lab[pos_rows]]
            pos_anchors = rois[pos_rows]
            with torch.no_grad():
                iou_all[pos_rows] = iou_paired(decode(pos_anchors, pos_deltas.detach(), RCNN_STDS), pos_gt)
            reg_loss = (pos_deltas - encode(pos_anchors, pos_gt, RCNN_STDS)).abs().sum() / max(1, R)
        else:
            reg_loss = reg.sum() * 0
        Y = F.one_hot(roi_lab, C + 1).float()
        cls_loss = -(Y * torch.log(F.softmax(cls, 1) + 1e-20)).sum(1).mean()  # Neg(Dot(Y,Log(Softmax(X))))
        # the loss terms, named as faster_rcnn.ts losses() names them (read by the equivalence test)
        self.parts = {"rpn_cls": rpn_cls.detach(), "rpn_reg": rpn_reg.detach(), "cls": cls_loss.detach(), "reg": reg_loss.detach()}
        return rpn_cls + rpn_reg + self.cls_weight * cls_loss + self.reg_weight * reg_loss


# ---------------------------------------------------------------- weights and batches from the TS side


def ts_to_torch(name, shape, data, model):
    """A TS parameter (tfjs layout) as the torch tensor of the same name: conv filters HWIO -> OIHW,
    fc weights [in, out] -> [out, in]; the first fc of the box head reads RoIs flattened (y, x, c)
    on the TS side and (c, y, x) here."""
    t = torch.frombuffer(bytearray(data), dtype=torch.float32).clone()
    if t.numel() != math.prod(shape):
        fail(f"weights: {name} has {t.numel()} values for shape {shape}")
    t = t.reshape(shape)
    if len(shape) == 4:
        return t.permute(3, 2, 0, 1).contiguous()
    if len(shape) == 2:
        if name == "roi_head.bbox_head.shared_fcs.0.weight":
            S = model.S
            ch = shape[0] // (S * S)
            return t.reshape(S, S, ch, shape[1]).permute(3, 2, 0, 1).reshape(shape[1], -1).contiguous()
        return t.t().contiguous()
    return t


def load_ts_weights(model, path):
    """Copies a TS weights file into the model; every name must match both ways, every shape too."""
    with open(path) as f:
        named = json.load(f)
    state = model.state_dict()
    missing = sorted(set(state) - set(named))
    extra = sorted(set(named) - set(state))
    if missing or extra:
        fail(f"weights {path}: names do not match the twin: missing {missing[:10]} ({len(missing)}), extra {extra[:10]} ({len(extra)})")
    with torch.no_grad():
        for name, p in state.items():
            e = named[name]
            t = ts_to_torch(name, e["shape"], base64.b64decode(e["data"]), model)
            if tuple(t.shape) != tuple(p.shape):
                fail(f"weights {path}: {name} has shape {list(t.shape)} after the layout change (TS {e['shape']}), the twin {list(p.shape)}")
            p.copy_(t)
    return len(state)


def load_batch(path):
    """A batch written by the TS side: images NHWC float32 (base64), per image boxes and labels, content sizes."""
    with open(path) as f:
        b = json.load(f)
    images = torch.frombuffer(bytearray(base64.b64decode(b["images"])), dtype=torch.float32).clone()
    images = images.reshape(b["shape"]).permute(0, 3, 1, 2).contiguous()
    boxes = [torch.tensor(x, dtype=torch.float32).reshape(-1, 4) for x in b["boxes"]]
    labels = [torch.tensor(x, dtype=torch.long) for x in b["labels"]]
    content = torch.tensor(b["contentSizes"], dtype=torch.float32)
    return images, boxes, labels, content


def synthetic(batch, size, C, gen):
    images = torch.randn(batch, 3, size, size, generator=gen)
    boxes, labels = [], []
    for _ in range(batch):
        n = int(torch.randint(1, 6, (1,), generator=gen))
        xy = torch.rand(n, 2, generator=gen) * (size - 64)
        wh = 12 + torch.rand(n, 2, generator=gen) * 52
        boxes.append(torch.cat([xy, xy + wh], 1))
        labels.append(torch.randint(0, C, (n,), generator=gen))
    return images, boxes, labels


def build(train):
    kind = train["model"]["detector"]
    if kind == "fcos":
        return FCOS(train)
    if kind == "faster-rcnn":
        return FasterRCNN(train)
    fail(f"no PyTorch twin for detector {kind!r}")


def check(model, spec):
    """One batch through the loss and backward with the TS weights: the loss terms and gradient norms."""
    load_ts_weights(model, spec["weights"])
    images, boxes, labels, content = load_batch(spec["batch"])
    model.zero_grad()
    total = model.loss(images, boxes, labels, content, torch.Generator().manual_seed(0))
    total.backward()
    grads = {n: (float(p.grad.norm()) if p.grad is not None else 0.0) for n, p in model.named_parameters()}
    print(json.dumps({"parts": {k: float(v) for k, v in model.parts.items()}, "total": float(total), "grads": grads}), flush=True)


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    train = cfg["train"]
    model = build(train)
    if "check" in cfg:
        check(model, cfg["check"])
        return
    sched = train["schedule"]
    batch, size, C = sched["batch"], train["model"]["inputSize"], model.C
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=sched["momentum"], weight_decay=sched["weightDecay"])
    gen = torch.Generator().manual_seed(1)
    batches = [synthetic(batch, size, C, gen) for _ in range(4)]
    content = torch.tensor([[size, size]] * batch, dtype=torch.float32)  # (width, height) per image
    sampler = torch.Generator().manual_seed(2)  # RPN / RoI sampling (Faster R-CNN)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"ready": True, "params": params}), flush=True)
    k = 0

    def step():
        images, boxes, labels = batches[k % len(batches)]
        opt.zero_grad()
        loss = model.loss(images, boxes, labels, content, sampler)
        loss.backward()
        if sched["gradClip"] is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), sched["gradClip"])
        opt.step()
        return loss

    for line in sys.stdin:
        if line.startswith("profile"):
            n = int(line.split()[1])
            with torch.autograd.profiler.profile() as prof:
                for _ in range(n):
                    step()
                    k += 1
            rows = [[e.key, e.count / n, e.cpu_time_total / 1000 / n] for e in prof.key_averages()]
            print(json.dumps({"profile": rows}), flush=True)
            continue
        steps = int(line)
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            loss = step()
            k += 1
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"times": times, "loss": float(loss)}), flush=True)


if __name__ == "__main__":
    main()
