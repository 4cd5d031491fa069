"""faasctl Python runtime: runs inside every function container.

Run as `python3 -I -B -u /opt/faasctl/faasctl_runtime MODE ...` (the directory, whose
__main__.py dispatches). Modes (argv[1]):
  check   compile a function's source with this interpreter and check its entry point;
          prints ONE JSON line on stdout and exits 0 (exit 2 only for usage errors).
  run     one invocation (configured by FAASCTL_* environment variables); relays the
          function's own output live, then prints one framed result line:
              FAASCTL-RESULT:<nonce>:<compact JSON>
          and exits 0: the frame, not the exit code, carries the status.
  child   internal: the process that actually executes user code for `run`.
  serve   a warm replica: an HTTP server that answers invocations with a pool of
          worker processes, each holding the function loaded (see warm_server).
  worker  internal: one such worker process.

One module per concern:
  __main__     entry point: puts the package out of the user's sight, dispatches the mode
  config       FAASCTL_* settings, defaults, UsageError
  protocol     what goes over the wire: the cold frame line, the warm outcome JSON,
               length-prefixed messages between the server and its workers
  checker      `check`, and the compile/entry rules the runners share with it
  flavors      handler flavours (main, Lambda, OpenFaaS, 2016): finding, checking and
               calling the entry; the Lambda context
  sandbox      process hardening: prctl, the nonce scrub, the child's environment
  cgroups      what the container's cgroup says: memory, CPU, OOM kills, pids
  helpers      the `faasctl` module user code imports (secret(name))
  user_code    loading the user's module and calling its entry; errors as the user sees them
  relay        the cold run's live relay of user output within a byte budget
  cold         `run`: the parent that supervises the child and writes the frame
  cold_child   `child`: the process that runs the function once
  worker       `worker`: a process that holds the function and answers requests
  pool         the server's side of the workers: spawn, acquire, replace, time out
  warm_server  `serve`: the HTTP server of a warm replica

Every import inside the package is package-relative and the package directory is taken
off sys.path before user code runs, so a user's module named like one of these (protocol,
sandbox, worker ...) can neither shadow a runtime module nor be shadowed by one.

This file imports nothing: each mode loads only the modules it needs (start-up time is
part of every cold invocation). Standard library only; compatible with Python 3.9+.
"""
