"""Runs the hand-made operator files of tflite_ops_fixture in TFLite's reference kernels (TAP output).

Each NAME.tflite in DIR comes with NAME.in (int8 inputs, one sample after another), NAME.in1 for a model with a
second input (its samples likewise) and NAME.out (libsscma's outputs for them); the reference kernels (OpResolverType.BUILTIN_REF) must give exactly the same bytes: 0 LSB.
"""
import glob
import os
import sys

import numpy as np
from ai_edge_litert import interpreter as litert


def main(dirname):
    files = sorted(glob.glob(os.path.join(dirname, "*.tflite")))
    print(f"1..{len(files) + 1}")
    print(f"{'ok' if files else 'not ok'} 1 - the fixture wrote {len(files)} files")
    failed = 0 if files else 1
    for i, path in enumerate(files, 2):
        name = os.path.basename(path)[:-7]
        try:
            interp = litert.Interpreter(model_path=path, num_threads=1,
                                        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
            interp.allocate_tensors()
            inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
            xs = np.fromfile(os.path.join(dirname, name + ".in"), dtype=inp["dtype"])
            ours = np.fromfile(os.path.join(dirname, name + ".out"), dtype=out["dtype"])
            n = xs.size // int(np.prod(inp["shape"]))
            xs = xs.reshape((n,) + tuple(inp["shape"]))
            second = os.path.join(dirname, name + ".in1")
            x1s = None
            if os.path.exists(second):
                inp1 = interp.get_input_details()[1]
                x1s = np.fromfile(second, dtype=inp1["dtype"]).reshape((n,) + tuple(inp1["shape"]))
            refs = []
            for k, x in enumerate(xs):
                interp.set_tensor(inp["index"], x)
                if x1s is not None:
                    interp.set_tensor(inp1["index"], x1s[k])
                interp.invoke()
                refs.append(interp.get_tensor(out["index"]).copy())
            ref = np.concatenate([r.reshape(-1) for r in refs])
            if ref.size != ours.size:
                raise ValueError(f"{ours.size} outputs from libsscma, {ref.size} from TFLite")
            if ref.dtype == np.float32:  # float outputs: the same bits (NaN included)
                diff = (ref.view(np.uint32) != ours.view(np.uint32)).astype(np.int32)
                bad = int(np.count_nonzero(diff))
                ok = bad == 0
                detail = f"{ref.size} float outputs, {bad} differ in their bits"
            else:
                diff = np.abs(ref.astype(np.int32) - ours.astype(np.int32))
                bad = int(np.count_nonzero(diff))
                ok = bad == 0
                detail = f"{ref.size} outputs, max {int(diff.max())} LSB, {bad} differ"
            if not ok:
                k = int(np.argmax(diff))
                detail += f" (first at {k}: input {xs.reshape(-1)[k % xs.size]}, TFLite {ref[k]}, libsscma {ours[k]})"
        except Exception as e:  # a file TFLite refuses is a failure too
            ok, detail = False, f"{type(e).__name__}: {e}"
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i} - {name}: {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
