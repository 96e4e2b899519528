"""``python benchmarks/run.py [options]``: the same command as ``fenghuo bench``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fenghuo.cli import main

if __name__ == "__main__":
    main(["bench", *sys.argv[1:]])
