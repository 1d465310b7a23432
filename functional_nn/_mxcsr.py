"""Reading and writing x86-64's MXCSR register from Python, compiled by Numba.

MXCSR is the SSE unit's control and status register, one per thread; Python has no way to
reach its ``stmxcsr`` and ``ldmxcsr`` instructions, so these two Numba functions emit them.
Imported only by ``fused.subnormals_flushed``, on x86-64 machines with Numba: importing it
imports Numba. Defined at module level so that Numba's on-disk cache can find them again in
the next process (defined inside a function, they were compiled anew in every process).
"""

from __future__ import annotations

import importlib
from typing import Any

import numba
import numpy as np
from numba.extending import intrinsic

_ir: Any = importlib.import_module("llvmlite.ir")  # untyped, as are Numba's code-generation helpers
_cgutils: Any = importlib.import_module("numba.core.cgutils")


def _instruction(builder: Any, name: str, slot: Any) -> None:
    """Call the LLVM intrinsic ``name`` (``llvm.x86.sse.stmxcsr`` or ``ldmxcsr``) on ``slot``."""
    byte_pointer = _ir.IntType(8).as_pointer()
    function = _cgutils.get_or_insert_function(builder.module, _ir.FunctionType(_ir.VoidType(), [byte_pointer]), name)
    builder.call(function, [builder.bitcast(slot, byte_pointer)])


def _store_typing(typing_context: Any) -> Any:
    def codegen(context: Any, builder: Any, signature: Any, arguments: Any) -> Any:
        slot = _cgutils.alloca_once(builder, _ir.IntType(32))
        _instruction(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)

    return numba.types.uint32(), codegen


def _load_typing(typing_context: Any, value: Any) -> Any:
    def codegen(context: Any, builder: Any, signature: Any, arguments: Any) -> Any:
        slot = _cgutils.alloca_once(builder, _ir.IntType(32))
        builder.store(arguments[0], slot)
        _instruction(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()

    return numba.types.none(numba.types.uint32), codegen


_store_mxcsr: Any = intrinsic(_store_typing)
_load_mxcsr: Any = intrinsic(_load_typing)


def _jit(function: Any) -> Any:
    try:
        return numba.njit(cache=True)(function)
    except RuntimeError:  # no writeable cache directory anywhere: compile in every process
        return numba.njit(function)


@_jit
def read() -> Any:
    """This thread's MXCSR, as an integer."""
    return _store_mxcsr()


@_jit
def write(value: Any) -> None:
    """Set this thread's MXCSR to ``value``."""
    _load_mxcsr(np.uint32(value))
