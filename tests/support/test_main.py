"""The entry of a Python test that CTest runs with the paths of what it
drives (`--driver PATH`, `--agent PATH`, `--build-dir PATH`):

    if __name__ == "__main__":
        test_main.run("agent")          # sets AGENT, then unittest.main

Each named option is required; its absolute path is set as the upper-case
global (`--build-dir` -> BUILD_DIR) of `into` (the calling test module by
default), and the remaining arguments go to unittest.main (-k, -v, ...).
`options` adds optional flags the same way, each with its argparse keywords
(`cycles=dict(type=int, default=400)`: `--cycles N` -> CYCLES)."""
import argparse
import inspect
import os
import sys
import unittest


def run(*paths, into=None, **options):
    parser = argparse.ArgumentParser()
    for name in paths:
        parser.add_argument("--" + name, required=True)
    for name, keywords in options.items():
        parser.add_argument("--" + name.replace("_", "-"), **keywords)
    args, rest = parser.parse_known_args()
    if into is None:
        into = sys.modules[inspect.stack()[1].frame.f_globals["__name__"]]
    for name in paths:
        attr = name.replace("-", "_")
        setattr(into, attr.upper(), os.path.abspath(getattr(args, attr)))
    for name in options:
        setattr(into, name.upper(), getattr(args, name))
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=2)
