"""``python -m benchmarks``: the same command as ``fenghuo bench``."""

from fenghuo.cli import main

if __name__ == "__main__":
    main(["bench", *__import__("sys").argv[1:]])
