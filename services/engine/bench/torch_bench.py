"""PyTorch side of `npm run bench`: builds the benchmark's nets from a JSON spec and times SGD steps.

Driven by bench/run.ts over stdin/stdout, one JSON object per line, so that the two frameworks can be
timed alternately in one run with both kept warm:

  {"cmd": "hello"}                          -> {"torch": version, "default_threads": n}
  {"cmd": "build", "case": CASE}            -> {"ok": true, "params": n}
  {"cmd": "run", "steps": n, "threads": t}  -> {"ms": [per-step milliseconds], "loss": last loss}
  {"cmd": "gemm", "n": n, "threads": t}     -> {"gflops": best of 5 n x n x n float32 GEMMs as 1x1 convs of 16 images}
  {"cmd": "quit"}

A CASE (see bench/net-spec.ts) is a supernet at max width plus the training step to time: a list of
subnet passes, each with the active width of every width-carrying layer, an input resolution and a
loss ("ce" against the labels, or "kl" to the first pass's detached soft predictions, as in PSS-Net's
in-place distillation). Subnets run by slicing the max-width weights (weight sharing), as the engine
does: 1x1 convs slice [out, in], depthwise convs slice channels, BN slices its affine parameters
and running statistics.
"""

import json
import sys
import time

import torch
import torch.nn.functional as F

# Images in the ceiling's 1x1 convolution (run.ts uses the same): GEMM_BATCH * side^2 = n rows.
GEMM_BATCH = 16

torch.manual_seed(0)
DEFAULT_THREADS = torch.get_num_threads()


class Conv:
    """Conv (kxk, depthwise or 1x1) + BN (batch statistics, affine) + optional ReLU6, max width."""

    def __init__(self, spec, cin_max, params):
        self.op = spec["op"]
        self.k = spec.get("k", 1)
        self.stride = spec.get("stride", 1)
        self.act = spec.get("act", True)
        self.bn = spec.get("bn", True)
        if self.op == "dw":
            self.cout_max = cin_max
            shape = (cin_max, 1, self.k, self.k)
        else:
            self.cout_max = spec["maxOut"]
            shape = (self.cout_max, cin_max, self.k, self.k)
        fan_in = shape[1] * self.k * self.k
        self.w = (torch.randn(*shape) * (2.0 / fan_in) ** 0.5).requires_grad_()
        params.append(self.w)
        if self.bn:
            self.gamma = torch.ones(self.cout_max, requires_grad=True)
            self.beta = torch.zeros(self.cout_max, requires_grad=True)
            params += [self.gamma, self.beta]
            self.running_mean = torch.zeros(self.cout_max)
            self.running_var = torch.ones(self.cout_max)

    def __call__(self, x, cout):
        cin = x.shape[1]
        if self.op == "dw":
            cout = cin
            y = F.conv2d(x, self.w[:cin], stride=self.stride, padding=same_pad(self.k, self.stride, x), groups=cin)
        elif self.op == "pw":
            y = F.conv2d(x, self.w[:cout, :cin])
        else:
            y = F.conv2d(x, self.w[:cout, :cin], stride=self.stride, padding=same_pad(self.k, self.stride, x))
        if self.bn:
            y = F.batch_norm(y, self.running_mean[:cout], self.running_var[:cout], self.gamma[:cout], self.beta[:cout],
                             training=True, momentum=0.1, eps=1e-5)
        if self.act:
            y = F.relu6(y)
        return y


def same_pad(k, stride, x):
    # TF 'same' padding; symmetric for the odd kernels and even sizes used here when stride is 1, and
    # off by at most one row for stride 2, which does not change the cost.
    return k // 2


class Net:
    def __init__(self, case):
        self.case = case
        self.params = []
        self.layers = []
        cin = case["input"][2]
        for spec in case["layers"]:
            layer, cin = self.build(spec, cin)
            self.layers.append(layer)

    def build(self, spec, cin):
        op = spec["op"]
        if op in ("conv", "dw", "pw"):
            conv = Conv(spec, cin, self.params)
            return ("conv", conv), conv.cout_max
        if op == "block":
            inner = []
            c = cin
            for s in spec["layers"]:
                layer, c = self.build(s, c)
                inner.append(layer)
            return ("block", spec.get("residual", False), inner), c
        if op == "pool":
            return ("pool",), cin
        if op == "fc":
            w = (torch.randn(spec["out"], cin) * (1.0 / cin) ** 0.5).requires_grad_()
            b = torch.zeros(spec["out"], requires_grad=True)
            self.params += [w, b]
            return ("fc", w, b), spec["out"]
        raise ValueError(f"unknown op {op}")

    def forward(self, x, widths):
        it = iter(widths)
        for layer in self.layers:
            x = self.apply(layer, x, it)
        return x

    def apply(self, layer, x, widths):
        kind = layer[0]
        if kind == "conv":
            conv = layer[1]
            return conv(x, x.shape[1] if conv.op == "dw" else next(widths))
        if kind == "block":
            y = x
            for inner in layer[2]:
                y = self.apply(inner, y, widths)
            if layer[1] and y.shape == x.shape:
                y = y + x
            return y
        if kind == "pool":
            return x.mean(dim=(2, 3))
        if kind == "fc":
            w, b = layer[1], layer[2]
            return F.linear(x, w[:, : x.shape[1]], b)
        raise ValueError(kind)


def make_step(net, case):
    batch = case["batch"]
    h, w, c = case["input"]
    x = torch.rand(batch, c, h, w)
    labels = torch.randint(0, case["classes"], (batch,))
    opt = torch.optim.SGD(net.params, lr=0.01, momentum=0.9)
    passes = case["passes"]

    def step():
        opt.zero_grad(set_to_none=True)
        teacher = None
        total = 0.0
        for p in passes:
            inp = x
            if p["resolution"] != h:
                inp = F.interpolate(x, size=(p["resolution"], p["resolution"]), mode="bilinear", align_corners=False)
            logits = net.forward(inp, p["widths"])
            if p["loss"] == "ce":
                loss = F.cross_entropy(logits, labels)
            else:
                loss = F.kl_div(F.log_softmax(logits, dim=1), teacher, reduction="batchmean")
            if teacher is None:
                teacher = F.softmax(logits.detach(), dim=1)
            # Backward per pass, as the engine does: only one pass's activations are alive at a time.
            loss.backward()
            total += loss.item()
        opt.step()
        return total

    return step


def main():
    step = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "hello":
            reply = {"torch": torch.__version__, "default_threads": DEFAULT_THREADS}
        elif cmd == "build":
            torch.set_num_threads(DEFAULT_THREADS)
            net = Net(msg["case"])
            step = make_step(net, msg["case"])
            reply = {"ok": True, "params": sum(p.numel() for p in net.params)}
        elif cmd == "run":
            torch.set_num_threads(msg["threads"])
            ms = []
            loss = 0.0
            for _ in range(msg["steps"]):
                t0 = time.perf_counter()
                loss = step()
                ms.append((time.perf_counter() - t0) * 1000)
            reply = {"ms": ms, "loss": loss}
        elif cmd == "gemm":
            # The side's ceiling for the step's kind of arithmetic: an n x n x n float32 GEMM run as a
            # 1x1 convolution (n -> n channels on GEMM_BATCH images of sqrt(n / GEMM_BATCH) squared
            # pixels), the path PyTorch's convolutions take (oneDNN), which torch.mm (the system
            # BLAS) may not. A batch of several images, as in the cases: on one thread PyTorch 1.13
            # runs a 1x1 convolution of a single image on its slow non-oneDNN path (5.8 against
            # 159 GFLOP/s here).
            torch.set_num_threads(msg["threads"])
            n = msg["n"]
            side = int(round((n / GEMM_BATCH) ** 0.5))
            x = torch.rand(GEMM_BATCH, n, side, side)
            w = torch.rand(n, n, 1, 1)
            with torch.no_grad():
                F.conv2d(x, w)
                best = float("inf")
                for _ in range(5):
                    t0 = time.perf_counter()
                    F.conv2d(x, w)
                    best = min(best, time.perf_counter() - t0)
            reply = {"gflops": 2 * n * n * GEMM_BATCH * side * side / best / 1e9}
        elif cmd == "quit":
            return
        else:
            reply = {"error": f"unknown command {cmd}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
