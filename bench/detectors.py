"""PyTorch eager twin of the cpu-small detectors in src/detect, driven by bench/detectors.ts.

Same architecture (ResNet-18 with GroupNorm at the preset's width, given as `base` channels; FPN, heads), same batch, input size, target
assignment rules, losses (FCOS: focal + GIoU + BCE quality toward the IoU; Faster R-CNN: RPN BCE +
L1, RoIAlign 7x7 aligned sampling 2, 2-fc head, CE + L1) and optimizer step (SGD momentum 0.9,
weight decay 1e-4, clipping at norm 35). Assignment is vectorised with torch ops. torchvision is
not installed, so the Faster R-CNN's RoIAlign is the separable matrix form of
src/detect/roi_align.ts and its NMS a batched fixed-point form of greedy NMS, both in torch ops.

Protocol: argv[1] is a JSON object {threads, detector: "fcos" | "faster-rcnn", classes, batch,
size}. The first stdout line is {"ready": true, "params": N} (N: parameter count, which the
driver checks against the torch-backend model). Then each stdin line "STEPS" runs that many
training iterations on synthetic batches and prints one JSON line {"times": [ms...], "loss": x}.
Run with Debian's python3-torch (/usr/bin/python3).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gn(c, groups):
    g = min(groups, c)
    while c % g:
        g -= 1
    return nn.GroupNorm(g, c)


class Basic(nn.Module):
    def __init__(self, cin, planes, stride, groups):
        super().__init__()
        self.c1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.n1 = gn(planes, groups)
        self.c2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.n2 = gn(planes, groups)
        self.down = None
        if stride != 1 or cin != planes:
            self.down = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), gn(planes, groups))

    def forward(self, x):
        y = self.n2(self.c2(F.relu(self.n1(self.c1(x)))))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNet18(nn.Module):
    def __init__(self, base, groups):
        super().__init__()
        self.stem = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.n = gn(base, groups)
        layers, cin = [], base
        for s in range(4):
            planes = base * 2 ** s
            layers.append(nn.Sequential(Basic(cin, planes, 1 if s == 0 else 2, groups), Basic(planes, planes, 1, groups)))
            cin = planes
        self.layers = nn.ModuleList(layers)
        self.channels = [base * 2 ** s for s in range(4)]

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.n(self.stem(x))), 3, 2, 1)
        outs = []
        for l in self.layers:
            x = l(x)
            outs.append(x)
        return outs


class FPN(nn.Module):
    def __init__(self, chans, out, min_level, max_level):
        super().__init__()
        self.min_level, self.max_level = min_level, max_level
        used = list(range(min_level, 6))
        self.lat = nn.ModuleList([nn.Conv2d(chans[l - 2], out, 1) for l in used])
        self.out = nn.ModuleList([nn.Conv2d(out, out, 3, 1, 1) for l in used if l <= max_level])

    def forward(self, c):
        lat = [m(c[l - 2]) for m, l in zip(self.lat, range(self.min_level, 6))]
        for i in range(len(lat) - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + F.interpolate(lat[i], size=lat[i - 1].shape[-2:], mode="nearest")
        return [m(x) for m, x in zip(self.out, lat)]


def giou_terms(p, t):
    lt = torch.max(p[:, :2], t[:, :2]); rb = torch.min(p[:, 2:], t[:, 2:])
    wh = (rb - lt).clamp(min=0); inter = wh[:, 0] * wh[:, 1]
    ap = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1]); at = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    union = ap + at - inter + 1e-7
    elt = torch.min(p[:, :2], t[:, :2]); erb = torch.max(p[:, 2:], t[:, 2:])
    ewh = (erb - elt).clamp(min=0); enc = ewh[:, 0] * ewh[:, 1] + 1e-7
    return inter, union, enc


class FCOS(nn.Module):
    def __init__(self, C, base=16):
        super().__init__()
        self.C = C
        self.backbone = ResNet18(base, 8)
        self.fpn = FPN(self.backbone.channels, 64, 3, 5)
        self.strides = [8, 16, 32]
        self.ranges = [(-1, 32), (32, 64), (64, 1e8)]
        def tower():
            return nn.Sequential(*[m for _ in range(2) for m in (nn.Conv2d(64, 64, 3, 1, 1, bias=False), gn(64, 16), nn.ReLU())])
        self.cls_t, self.reg_t = tower(), tower()
        self.cls = nn.Conv2d(64, C, 3, 1, 1); self.reg = nn.Conv2d(64, 4, 3, 1, 1); self.q = nn.Conv2d(64, 1, 3, 1, 1)
        nn.init.constant_(self.cls.bias, -math.log(99))
        self.scales = nn.Parameter(torch.ones(3))

    def loss(self, images, boxes, labels):
        feats = self.fpn(self.backbone(images))
        B = images.shape[0]
        cls_l, reg_l, q_l, pts, strides, rng = [], [], [], [], [], []
        for i, f in enumerate(feats):
            c, r = self.cls_t(f), self.reg_t(f)
            h, w = f.shape[-2:]
            cls_l.append(self.cls(c).permute(0, 2, 3, 1).reshape(B, -1, self.C))
            reg_l.append(F.relu(self.reg(r) * self.scales[i]).permute(0, 2, 3, 1).reshape(B, -1, 4))
            q_l.append(self.q(r).permute(0, 2, 3, 1).reshape(B, -1))
            s = self.strides[i]
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
            pts.append(torch.stack([xs.reshape(-1) * s + s // 2, ys.reshape(-1) * s + s // 2], 1).float())
            strides.append(torch.full((h * w,), float(s)))
            rng.append(torch.tensor(self.ranges[i]).expand(h * w, 2))
        cls, reg, q = torch.cat(cls_l, 1), torch.cat(reg_l, 1), torch.cat(q_l, 1)
        pts, strides, rng = torch.cat(pts), torch.cat(strides), torch.cat(rng)
        P = pts.shape[0]
        lab_all, pos_pred, pos_tgt, pos_q = [], [], [], []
        for b in range(B):
            g, gl = boxes[b], labels[b]
            lab = torch.full((P,), self.C, dtype=torch.long)
            if g.shape[0]:
                x, y = pts[:, 0:1], pts[:, 1:2]
                ltrb = torch.stack([x - g[:, 0], y - g[:, 1], g[:, 2] - x, g[:, 3] - y], 2)  # [P, G, 4]
                cx, cy = (g[:, 0] + g[:, 2]) / 2, (g[:, 1] + g[:, 3]) / 2
                rad = strides[:, None] * 1.5
                cx1 = torch.max(cx - rad, g[:, 0]); cy1 = torch.max(cy - rad, g[:, 1])
                cx2 = torch.min(cx + rad, g[:, 2]); cy2 = torch.min(cy + rad, g[:, 3])
                inside = torch.stack([x - cx1, y - cy1, cx2 - x, cy2 - y], 2).min(2).values > 0
                m = ltrb.max(2).values
                ok = inside & (m >= rng[:, 0:1]) & (m <= rng[:, 1:2])
                area = ((g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])).expand(P, -1).clone()
                area[~ok] = float("inf")
                best_area, best = area.min(1)
                pos = best_area < float("inf")
                lab[pos] = gl[best[pos]]
                pi = pos.nonzero()[:, 0]
                pr = reg[b, pi] * strides[pi, None]
                pp = pts[pi]
                pos_pred.append(torch.cat([pp - pr[:, :2], pp + pr[:, 2:]], 1))
                pos_tgt.append(g[best[pi]])
                pos_q.append(q[b, pi])
            lab_all.append(lab)
        labels_flat = torch.cat(lab_all)
        logits = cls.reshape(-1, self.C)
        pred, tgt, ql = torch.cat(pos_pred), torch.cat(pos_tgt), torch.cat(pos_q)
        npos = max(1, pred.shape[0])
        inter, union, enc = giou_terms(pred, tgt)
        iou = (inter / union).detach()
        onehot = F.one_hot(labels_flat, self.C + 1)[:, : self.C].float()
        p = torch.sigmoid(logits)
        focal = onehot * (1 - p) ** 2 * F.softplus(-logits) + (1 - onehot) * p ** 2 * F.softplus(logits)
        alpha = 0.25 * onehot + 0.75 * (1 - onehot)
        l_cls = (alpha * focal).sum() / npos
        l_reg = (1 - inter / union + (enc - union) / enc).sum() / npos
        l_q = F.binary_cross_entropy_with_logits(ql, iou, reduction="sum") / npos
        return l_cls + l_reg + l_q


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


class FasterRCNN(nn.Module):
    """rcnnPreset('cpu-small'): R18 x0.25 GN 8, FPN P2-P5 64 ch, RPN (3 ratios, scale 4), RoIAlign 7x7, 2-fc 256."""

    def __init__(self, C, base=16):
        super().__init__()
        self.C = C
        self.backbone = ResNet18(base, 8)
        self.fpn = FPN(self.backbone.channels, 64, 2, 5)
        self.strides = [4, 8, 16, 32]
        self.ratios = [0.5, 1.0, 2.0]
        self.anchor_scale = 4
        A = len(self.ratios)
        self.rpn_conv = nn.Conv2d(64, 64, 3, 1, 1)
        self.rpn_cls = nn.Conv2d(64, A, 1)
        self.rpn_reg = nn.Conv2d(64, 4 * A, 1)
        self.S, self.sr, self.finest = 7, 2, 28
        self.fc1 = nn.Linear(self.S * self.S * 64, 256)
        self.fc2 = nn.Linear(256, 256)
        self.fc_cls = nn.Linear(256, C + 1)
        self.fc_reg = nn.Linear(256, 4 * C)
        # rpn: pos 0.7 / neg 0.3 / low-quality 0.3, 256 per image at 1/2 positive, NMS 0.7, 500 pre / 200 post
        # rcnn: pos = neg = 0.5, 64 per image at 1/4 positive
        self._anchors = {}
        # the TS initialisation (layers.ts Init), so proposals start from the same kind of outputs
        for m in list(self.backbone.modules()):
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for m in self.fpn.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)
        for m, std in ((self.rpn_conv, 0.01), (self.rpn_cls, 0.01), (self.rpn_reg, 0.01), (self.fc_cls, 0.01), (self.fc_reg, 0.001)):
            nn.init.normal_(m.weight, 0, std); nn.init.zeros_(m.bias)
        for m in (self.fc1, self.fc2):
            nn.init.xavier_uniform_(m.weight); nn.init.zeros_(m.bias)

    def anchors_for(self, shapes):
        key = tuple(shapes)
        if key not in self._anchors:
            self._anchors[key] = [level_anchors(h, w, s, self.anchor_scale, self.ratios) for (h, w), s in zip(shapes, self.strides)]
        return self._anchors[key]

    @torch.no_grad()
    def proposals(self, objs, dels, anchors, content, pre_nms, max_num):
        """Per image: per-level top pre_nms by objectness, decode, clip, drop empty boxes, NMS 0.7
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
            keep_l.append(nms_keep(dec, valid, 0.7))
        out = []
        for b in range(B):
            bx = torch.cat([x[b][k[b]] for x, k in zip(boxes_l, keep_l)])
            sc = torch.cat([x[b][k[b]] for x, k in zip(scores_l, keep_l)])
            order = torch.sort(sc, dim=0, descending=True, stable=True).indices[:max_num]
            out.append(bx[order])
        return out

    def loss(self, images, boxes, labels, gen):
        B, size = images.shape[0], images.shape[-1]
        C = self.C
        content = torch.tensor([[size, size]] * B, dtype=torch.float32)  # (width, height) per image
        feats = self.fpn(self.backbone(images))
        objs, dels = [], []
        for f in feats:
            h = F.relu(self.rpn_conv(f))
            objs.append(self.rpn_cls(h).permute(0, 2, 3, 1).reshape(B, -1))  # (y, x, anchor)
            dels.append(self.rpn_reg(h).permute(0, 2, 3, 1).reshape(B, -1, 4))
        anchors_l = self.anchors_for([tuple(f.shape[-2:]) for f in feats])
        anchors = torch.cat(anchors_l)
        nA = anchors.shape[0]
        obj = torch.cat(objs, 1).reshape(-1)
        delta = torch.cat(dels, 1).reshape(-1, 4)

        # ---- RPN: MaxIoU assignment, 256 sampled anchors per image, BCE + L1 over the sampled count
        rows, rlab, prow, ptgt = [], [], [], []
        with torch.no_grad():
            for b in range(B):
                asg = max_iou_assign(anchors, boxes[b], 0.7, 0.3, 0.3, True)
                pos, neg = random_sample(asg, 256, 0.5, gen)
                ptgt.append(encode(anchors[pos], boxes[b][asg[pos]], RPN_STDS))
                prow.append(b * nA + pos)
                rows += [b * nA + pos, b * nA + neg]
                rlab += [torch.ones(pos.numel()), torch.zeros(neg.numel())]
        rows, rlab, prow, ptgt = torch.cat(rows), torch.cat(rlab), torch.cat(prow), torch.cat(ptgt)
        n_sampled = max(1, rows.numel())
        s = obj[rows]
        rpn_cls = (F.softplus(s) - s * rlab).sum() / n_sampled
        rpn_reg = (delta[prow] - ptgt).abs().sum() / n_sampled if prow.numel() else delta.sum() * 0

        # ---- proposals (no gradient), RoI sampling with the GT boxes added to the candidates
        props = self.proposals([o.detach() for o in objs], [d.detach() for d in dels], anchors_l, content, 500, 200)
        rois, roi_b, roi_lab, pos_rows, pos_gt = [], [], [], [], []
        n_rois = 0
        with torch.no_grad():
            for b in range(B):
                gt, gl = boxes[b], labels[b]
                cand = torch.cat([props[b], gt])
                asg = max_iou_assign(cand, gt, 0.5, 0.5, 0.5, False)
                pos, neg = random_sample(asg, 64, 0.25, gen)
                rois += [cand[pos], cand[neg]]
                roi_b.append(torch.full((pos.numel() + neg.numel(),), b, dtype=torch.long))
                roi_lab += [gl[asg[pos]], torch.full((neg.numel(),), C, dtype=torch.long)]
                pos_rows.append(n_rois + torch.arange(pos.numel()))
                pos_gt.append(gt[asg[pos]])
                n_rois += pos.numel() + neg.numel()
        rois, roi_b, roi_lab = torch.cat(rois), torch.cat(roi_b), torch.cat(roi_lab)
        pos_rows, pos_gt = torch.cat(pos_rows), torch.cat(pos_gt)
        R = rois.shape[0]
        pooled = multi_level_roi_align(feats, self.strides, rois, roi_b, self.finest, self.S, self.sr)
        x = F.relu(self.fc2(F.relu(self.fc1(pooled.reshape(R, -1)))))
        cls, reg = self.fc_cls(x), self.fc_reg(x)  # [R, C+1], [R, 4C]

        # ---- box head: L1 on the class-specific deltas of positives / R; 'ce' as the loss language writes it
        n_pos = pos_rows.numel()
        iou_all = torch.zeros(R)  # the Z input of cls-mode losses (unused by 'ce'; computed as the TS model does)
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
        # the loss terms, kept for checks against the TS model
        self.parts = {"rpn_cls": rpn_cls.detach(), "rpn_reg": rpn_reg.detach(), "cls": cls_loss.detach(), "reg": reg_loss.detach()}
        return rpn_cls + rpn_reg + cls_loss + reg_loss


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


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    if cfg["detector"] == "fcos":
        model = FCOS(cfg["classes"], cfg.get("base", 16))
    elif cfg["detector"] == "faster-rcnn":
        model = FasterRCNN(cfg["classes"], cfg.get("base", 16))
    else:
        raise SystemExit(f"bench/detectors.py: no PyTorch twin for detector {cfg['detector']!r}")
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(1)
    batches = [synthetic(cfg["batch"], cfg["size"], cfg["classes"], gen) for _ in range(4)]
    sampler = torch.Generator().manual_seed(2)  # RPN / RoI sampling (Faster R-CNN)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"ready": True, "params": params}), flush=True)
    k = 0
    def step():
        images, boxes, labels = batches[k % len(batches)]
        opt.zero_grad()
        loss = model.loss(images, boxes, labels, sampler) if isinstance(model, FasterRCNN) else model.loss(images, boxes, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 35)
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
