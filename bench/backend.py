"""PyTorch eager twin of src/demo/smallnet.ts, driven by bench/backend.ts.

Reads lines "STEPS" on stdin, runs that many SGD steps and prints one JSON line with the step
times in ms. Same architecture, batch, input size, learning rate and thread count as the
TypeScript model. Run with Debian's python3-torch (/usr/bin/python3).
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(cfg["seed"])
    c1, c2, c3 = cfg["channels"]
    batch, size, classes = cfg["batch"], cfg["size"], cfg["classes"]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, c1, 3, padding=1)
            self.c2 = nn.Conv2d(c1, c2, 3, padding=1)
            self.c3 = nn.Conv2d(c2, c3, 3, padding=1)
            self.fc = nn.Linear(c3, classes)

        def forward(self, x):
            h = F.max_pool2d(F.relu(self.c1(x)), 2)
            h = F.max_pool2d(F.relu(self.c2(h)), 2)
            h = F.relu(self.c3(h))
            return self.fc(h.mean(dim=(2, 3)))

    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=cfg["lr"])
    gen = torch.Generator().manual_seed(cfg["seed"])
    batches = [
        (torch.randn(batch, 3, size, size, generator=gen), torch.randint(0, classes, (batch,), generator=gen))
        for _ in range(4)
    ]
    print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
    i = 0
    for line in sys.stdin:
        steps = int(line)
        times = []
        for _ in range(steps):
            x, y = batches[i % len(batches)]
            i += 1
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            loss.item()
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"times": times}), flush=True)


if __name__ == "__main__":
    main()
