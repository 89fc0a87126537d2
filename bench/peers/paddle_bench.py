#!/usr/bin/env python3
"""paddle_bench.py: the PaddlePaddle + PaddleSlim peer of bench/model_bench,
i.e. the reference system itself (shared/BENCH.md).

paddle.vision's mobilenet_v3_small on the same synthetic batch as model_bench,
CPU place, with --threads as OMP_NUM_THREADS and the CPU math library threads:

  T-fp32   a training step: forward, cross-entropy, backward, Momentum (0.9,
           L2 decay 1e-4)
  T-qat    the same after PaddleSlim's dygraph QAT with the reference's config:
           PACT on activations, channel-wise abs-max weights, moving-average
           abs-max activations, 8 bits, Conv2D and Linear
  I-fp32   eval forward under no_grad

Runs only where `import paddle, paddleslim` works (pip install paddlepaddle
paddleslim, e.g. into a virtual environment named with PEER_PADDLE=); pactcl
never depends on it.  Otherwise every workload is reported as skipped.
"""
import os
import sys

# No __pycache__ beside the sources: make bench runs them from the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

try:
    import numpy as np
    import paddle
    import paddleslim  # noqa: F401
    from paddleslim.dygraph.quant import QAT
    MISSING = None
except ImportError as e:  # reported as skipped, never faked
    MISSING = "(not installed: %s)" % e

# SEED-SPEC §3: the reference's PaddleSlim QAT configuration.
QUANT_CONFIG = {
    "weight_preprocess_type": None,
    "activation_preprocess_type": "PACT",
    "weight_quantize_type": "channel_wise_abs_max",
    "activation_quantize_type": "moving_average_abs_max",
    "weight_bits": 8,
    "activation_bits": 8,
    "dtype": "int8",
    "window_size": 10000,
    "moving_rate": 0.9,
    "quantizable_layer_type": ["Conv2D", "Linear"],
}


def train_step_fn(model, x, y):
    opt = paddle.optimizer.Momentum(learning_rate=0.01, momentum=0.9,
                                    parameters=model.parameters(),
                                    weight_decay=paddle.regularizer.L2Decay(1e-4))
    loss_fn = paddle.nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        opt.clear_grad()
        float(loss)  # the step has finished when its loss can be read
    return step


def run_child(args, w):
    paddle.set_device("cpu")
    paddle.seed(0)
    xs, ys = peer_common.synthetic(np, args, args.batch)
    x, y = paddle.to_tensor(xs), paddle.to_tensor(ys)
    m = paddle.vision.models.mobilenet_v3_small(num_classes=args.classes)
    if w == "I-fp32":
        m.eval()
        with paddle.no_grad():
            ms = peer_common.time_steps(lambda: float(m(x).sum()), args)
    else:
        if w == "T-qat":
            QAT(config=QUANT_CONFIG).quantize(m)
        m.train()
        ms = peer_common.time_steps(train_step_fn(m, x, y), args)
    peer_common.print_result("paddle", w, args.batch, ms)


if __name__ == "__main__":
    if not MISSING and not peer_common.parse_args(sys.argv[1:]).child:
        print("paddle %s, paddleslim (dygraph QAT, PACT)" % paddle.__version__, flush=True)
    sys.exit(peer_common.main("paddle", ("T-fp32", "T-qat", "I-fp32"), run_child, MISSING))
