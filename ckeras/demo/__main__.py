"""python -m ckeras.demo [digits|text|lstm] [--epochs N] [--out DIR]"""
import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ckeras.demo",
                                     description="Train a ckeras demo model on bundled real data.")
    parser.add_argument("which", nargs="?", default="digits", choices=["digits", "text", "lstm"])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=".", help="folder for the learning curve and model")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if args.which == "digits":
        from ckeras.demo.digits import run
    elif args.which == "lstm":
        from ckeras.demo.lstm import run
    else:
        from ckeras.demo.text import run
    return run(epochs=args.epochs, out_dir=args.out)


if __name__ == "__main__":
    sys.exit(main())
