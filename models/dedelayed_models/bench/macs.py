"""Multiply-accumulates of a forward pass, counted by ``torch.utils.flop_counter``.

PyTorch's counter knows the CUDA attention kernels but not the CPU one that
``F.scaled_dot_product_attention`` dispatches to on a CPU (``_scaled_dot_product_flash_attention_for_cpu``),
so without help it counts attention as free. ``count_macs`` registers the counter's own SDPA
formula for that op once, then counts. MACs = FLOPs / 2 (the counter counts a multiply-add as 2).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.utils import flop_counter

_REGISTERED = False


def _register_cpu_sdpa() -> None:
    global _REGISTERED
    if _REGISTERED:
        return
    op = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    if op is not None and op not in flop_counter.flop_registry:
        @flop_counter.register_flop_formula(op, get_raw=True)
        def _cpu_sdpa_flops(query, key, value, *args, out_val=None, **kwargs):
            return flop_counter.sdpa_flop_count(query.shape, key.shape, value.shape)
    _REGISTERED = True


def count_macs(fn: Callable[[], object]) -> int:
    """MACs of running ``fn()`` once (under no_grad; the result is discarded)."""
    _register_cpu_sdpa()
    with torch.no_grad(), flop_counter.FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops()) // 2
