"""``python -m ckeras run SCRIPT [ARGS...]``: run a Keras script unchanged on
ckeras (``keras``/``tensorflow.keras`` imports resolve to ckeras; see
ckeras.keras_shim)."""
import sys

_USAGE = """usage: python -m ckeras run SCRIPT [ARGS...]

Runs SCRIPT (a Keras or tf.keras program) with `keras`, `keras.*`, `tf_keras`,
`tensorflow.keras` and `tensorflow.keras.*` imports resolved to ckeras.
ARGS are passed to the script as sys.argv[1:]."""


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE)
        return 0 if argv else 2
    if argv[0] != "run" or len(argv) < 2:
        print(_USAGE, file=sys.stderr)
        return 2
    from ckeras.keras_shim import run_script
    run_script(argv[1], argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
