"""PyTorch eager twin of the cpu-small detectors in src/detect, driven by bench/detectors.ts.

Same architecture (ResNet-18 x0.25 with GroupNorm, FPN, heads), same batch, input size, target
assignment rules, losses (FCOS: focal + GIoU + BCE quality toward the IoU; Faster R-CNN: RPN BCE +
L1, RoIAlign 7x7 aligned sampling 2, 2-fc head, CE + L1) and optimizer step (SGD momentum 0.9,
weight decay 1e-4, clipping at norm 35). Assignment is vectorised with torch ops. Reads lines
"STEPS" on stdin, runs that many training iterations on synthetic batches and prints one JSON
line with the iteration times in ms. Run with Debian's python3-torch (/usr/bin/python3).
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
    def __init__(self, C):
        super().__init__()
        self.C = C
        self.backbone = ResNet18(16, 8)
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
    if cfg["detector"] != "fcos":
        raise SystemExit("bench/detectors.py: only the FCOS twin is written so far")
    model = FCOS(cfg["classes"])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(1)
    batches = [synthetic(cfg["batch"], cfg["size"], cfg["classes"], gen) for _ in range(4)]
    print(json.dumps({"ready": True}), flush=True)
    k = 0
    for line in sys.stdin:
        steps = int(line)
        times = []
        for _ in range(steps):
            images, boxes, labels = batches[k % len(batches)]
            k += 1
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = model.loss(images, boxes, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 35)
            opt.step()
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"times": times, "loss": float(loss)}), flush=True)


if __name__ == "__main__":
    main()
