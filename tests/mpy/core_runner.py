# Runs one test function of a tests/core module inside MicroPython (no pytest there).
# Usage: micropython core_runner.py MODULE FUNCTION
import sys

mod = __import__(sys.argv[1])
fn = getattr(mod, sys.argv[2])
fn()
print("PASS", sys.argv[1], sys.argv[2])
