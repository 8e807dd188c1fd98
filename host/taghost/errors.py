"""The one error type the `opentag` command reports to its user, and its exit codes.

A handler raises `UserError(message)` for anything the user can fix (a missing file, a value out
of range, a file of the wrong kind); `taghost.cli.main` prints it as one line and exits
EXIT_BAD_INPUT. Anything else escaping a handler is a bug: the traceback is printed and the exit
code is EXIT_CRASH, so a script can tell a crash from a red run.
"""

from __future__ import annotations

EXIT_OK = 0  # green run, valid file, command done
EXIT_RED = 1  # the command ran and the answer is "no": a red run, an invalid zone file
EXIT_BAD_INPUT = 2  # the command could not do what was asked: bad option, unusable file
EXIT_CRASH = 3  # a bug: the traceback is on stderr
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as a shell reports it)
EXIT_PIPE_CLOSED = 141  # the reader of stdout went away (`| head`): 128 + SIGPIPE, as coreutils


class UserError(ValueError):
    """Input the user can fix; the message says what and where, in one line. A ValueError, so
    library callers that catch ValueError keep working."""
