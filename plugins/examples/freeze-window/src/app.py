"""The component's entry point: the `policy` interface of the WIT world
`waxwing:plugin/policy-plugin`, built with componentize-py.

componentize-py generates the `wit_world` package from the WIT at build time; this module
exports the world's interface by defining a class named after it (`Policy`) that subclasses
the generated protocol. Records arrive as dataclasses with snake_case fields, variants are one
dataclass per case (`Decision_Wait(WaitReason(...))`), and raising `Err(PluginError_...)`
returns the `err` side of the function's result.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.policy import Decision_Proceed, Decision_Wait, PolicyContext, WaitReason
from wit_world.imports.types import PluginError_Internal, PluginError_InvalidInput

import freeze_window


class Policy(exports.Policy):
    def evaluate(self, ctx: PolicyContext):
        step = f"step {ctx.step_index} of {ctx.step_count}"
        try:
            decision = freeze_window.decide(ctx.config, ctx.now_unix_ms, step)
        except freeze_window.InvalidConfig as e:
            raise Err(PluginError_InvalidInput(str(e)))
        except Exception as e:  # a bug: report it instead of trapping
            raise Err(PluginError_Internal(f"freeze-window failed: {type(e).__name__}: {e}"))
        if decision[0] == "proceed":
            return Decision_Proceed()
        _, after_ms, reason = decision
        return Decision_Wait(WaitReason(after_ms=after_ms, reason=reason))
