"""The `faasctl` module that user code imports (`import faasctl; faasctl.secret(NAME)`):
a module holding the helpers and nothing else of the runtime's, put in sys.modules
before the user's module runs."""

import os
import re
import sys
import types

SECRETS_DIR = "/run/secrets"
SECRET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")


def secret(name):
    """The value (text) of a secret the function was deployed with: `fn deploy --secret NAME`
    mounts it as /run/secrets/NAME. User code gets it as `import faasctl; faasctl.secret(NAME)`.
    Errors name the secret, never its content."""
    if not isinstance(name, str) or not SECRET_NAME.match(name) or name.startswith("faasctl"):
        raise ValueError("invalid secret name %r" % (name,))
    try:
        with open(os.path.join(SECRETS_DIR, name), encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise KeyError("secret %r is not mounted: deploy with --secret %s" % (name, name)) from None


def install_helper_module():
    """`import faasctl` in user code: a module holding the helpers, nothing else of ours."""
    module = types.ModuleType("faasctl", "Helpers for faasctl functions: secret(name).")
    module.secret = secret
    sys.modules["faasctl"] = module
