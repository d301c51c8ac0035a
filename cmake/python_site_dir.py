"""Prints where a Python package installed under PREFIX belongs, relative
to PREFIX, for the interpreter that runs this script.

    python3 cmake/python_site_dir.py PREFIX

It is the interpreter's own site directory under PREFIX when it has one
(Debian's python3: lib/python3.X/dist-packages for /usr/local,
lib/python3/dist-packages for /usr), so that the package is found without
PYTHONPATH; otherwise the standard lib/python3.X/site-packages layout, which
needs PYTHONPATH (or a .pth file) to be found.
"""
import os
import site
import sys
import sysconfig


def lib_dir_under(path, prefix):
    """`path` relative to `prefix` when it lies in one of prefix's library
    directories (so /usr/local/... does not count as under /usr), else None."""
    rel = os.path.relpath(os.path.abspath(path), prefix)
    first = rel.split(os.sep)[0]
    if first in ("lib", "lib64", getattr(sys, "platlibdir", "lib")):
        return rel
    return None


def site_dir(prefix):
    prefix = os.path.abspath(prefix)
    candidates = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    candidates += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    for path in candidates:
        rel = lib_dir_under(path, prefix)
        if rel:
            return rel
    scheme = "posix_prefix" if os.name == "posix" else "nt"
    path = sysconfig.get_path("purelib", scheme, vars={"base": prefix, "platbase": prefix})
    return os.path.relpath(path, prefix)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python_site_dir.py PREFIX")
    print(site_dir(sys.argv[1]))
