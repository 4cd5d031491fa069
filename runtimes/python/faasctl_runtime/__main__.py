"""Entry point of the runtime: `python3 -I -B -u <this directory> MODE [ARGS]`. The image's
ENTRYPOINT, the tests and the runtime's own children (`child`, `worker`) all start it so.

Run as a directory, Python puts the directory itself first on sys.path, where each module
of the package would be importable by its bare name: a user's `import protocol` or
`import worker` would get ours. So this file takes that entry off, imports the package by
its own name from the parent directory, and takes the parent off again before any mode
runs. User code then finds none of the runtime's modules on sys.path, and the runtime's
own imports are all package-relative (faasctl_runtime.protocol ...), so nothing the user
puts on sys.path or in sys.modules under a bare name can replace them.

Each mode imports only its own modules: `check` never loads the HTTP server, `child`
never loads the supervisor."""

import os
import sys

MODES = {
    "check": ("checker", "check_mode"),
    "probe": ("probe", "probe_mode"),
    "run": ("cold", "run_mode"),
    "child": ("cold_child", "child_mode"),
    "serve": ("warm_server", "serve_mode"),
    "worker": ("worker", "worker_mode"),
    "standby": ("standby", "standby_mode"),
}
USAGE = "usage: faasctl_runtime check [--file PATH] [--entry NAME] [--filename NAME] | run | serve | standby"


def import_package():
    """The package, imported by its own name, with neither its directory nor the parent
    left on sys.path."""
    if __package__:  # python3 -m faasctl_runtime: already imported as a package
        return sys.modules[__package__]
    here = os.path.dirname(os.path.abspath(__file__))
    parent = os.path.dirname(here)
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    sys.path.insert(0, parent)
    try:
        return __import__(os.path.basename(here))
    finally:
        sys.path.remove(parent)


def main(argv):
    if len(argv) < 2 or argv[1] not in MODES:
        sys.stderr.write(USAGE + "\n")
        return 2
    package = import_package().__name__
    module, function = MODES[argv[1]]
    mode = getattr(__import__("%s.%s" % (package, module), fromlist=[function]), function)
    usage_error = __import__(package + ".config", fromlist=["UsageError"]).UsageError
    try:
        return mode(argv[2:])
    except usage_error as exc:
        sys.stderr.write("faasctl runtime: %s\n" % exc)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
