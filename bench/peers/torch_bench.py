#!/usr/bin/env python3
"""torch_bench.py: the PyTorch peer of bench/model_bench (shared/BENCH.md).

torchvision's mobilenet_v3_small on the same synthetic batch as model_bench,
with torch.set_num_threads(--threads):

  T-fp32   a training step: forward, cross-entropy, backward, SGD (momentum
           0.9, weight decay 1e-4)
  T-qat    the same on torchvision's quantizable mobilenet_v3_small, fused and
           prepared with torch.ao.quantization.prepare_qat (default QAT qconfig
           of the quantized engine)
  I-fp32   eval forward under inference_mode
  I-int8   the QAT model after two training steps, converted to int8
           (torch.ao.quantization.convert), eval forward; I-int8@1 at batch 1

The quantized engine is the first of fbgemm, x86, qnnpack, onednn that this
torch has (TORCH_QENGINES=a,b overrides the order).  Usage: see
bench/README.md; results go to stdout as the lines of peer_common.py.
"""
import os
import sys

# No __pycache__ beside the sources: make bench runs them from the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

try:
    import numpy as np
    import torch
    import torchvision
    MISSING = None
except ImportError as e:  # reported as skipped, never faked
    MISSING = "(not installed: %s)" % e


def engine():
    have = torch.backends.quantized.supported_engines
    # onednn last: Debian's 1.13 build runs its int8 convolutions tens of
    # times slower than qnnpack (0.46 s vs 0.01 s for one 64x64 image).
    for e in os.environ.get("TORCH_QENGINES", "fbgemm,x86,qnnpack,onednn").split(","):
        if e in have:
            return e
    return None


def qat_model(args):
    # torchvision 0.14 ships only the large quantizable model; the small one
    # is the same class on the small configuration, as its builder would make.
    from torchvision.models.mobilenetv3 import _mobilenet_v3_conf
    from torchvision.models.quantization import mobilenetv3 as qm
    eng = engine()
    torch.backends.quantized.engine = eng
    setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_small")
    m = qm._mobilenet_v3_model(setting, last_channel, None, False, False,
                               num_classes=args.classes)
    m.train()
    m.fuse_model(is_qat=True)
    m.qconfig = torch.ao.quantization.get_default_qat_qconfig(eng)
    torch.ao.quantization.prepare_qat(m, inplace=True)
    return m


def train_step_fn(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def run_child(args, w):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    xs, ys = peer_common.synthetic(np, args, args.batch)
    x, y = torch.from_numpy(xs), torch.from_numpy(ys)
    if w == "T-fp32":
        m = torchvision.models.mobilenet_v3_small(num_classes=args.classes).train()
        ms = peer_common.time_steps(train_step_fn(m, x, y), args)
    elif w == "T-qat":
        m = qat_model(args)
        ms = peer_common.time_steps(train_step_fn(m, x, y), args)
    elif w == "I-fp32":
        m = torchvision.models.mobilenet_v3_small(num_classes=args.classes).eval()
        with torch.inference_mode():
            ms = peer_common.time_steps(lambda: m(x), args)
    else:
        m = qat_model(args)
        step = train_step_fn(m, x[:8], y[:8])
        for _ in range(2):
            step()
        m.eval()
        q = torch.ao.quantization.convert(m)
        with torch.inference_mode():
            ms = peer_common.time_steps(lambda: q(x), args)
            peer_common.print_result("torch", w, args.batch, ms)
            x1 = x[:1].clone()
            ms = peer_common.time_steps(lambda: q(x1), args)
            peer_common.print_result("torch", "I-int8@1", 1, ms)
        return
    peer_common.print_result("torch", w, args.batch, ms)


if __name__ == "__main__":
    if not MISSING and not peer_common.parse_args(sys.argv[1:]).child:
        print("torch %s, torchvision %s, quantized engine %s"
              % (torch.__version__, torchvision.__version__, engine()), flush=True)
    sys.exit(peer_common.main("torch", peer_common.WORKLOADS, run_child, MISSING))
