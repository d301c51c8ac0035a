"""`cmake --install` of the Python package: installs the build tree into a
scratch prefix and imports csession from there alone (PYTHONPATH the
installed site directory, no CSESSION_LIBRARY, not run from a source tree).

    python3 tests/python/test_install.py CMAKE BUILD_DIR PYTHON_DIR

PYTHON_DIR is where the package goes, relative to the prefix (what
cmake/python.cmake chose) or absolute.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))

# Run in the installed package: a request through the manager, and where the
# package and the library came from.
PROBE = r"""
import csession
cfg = csession.Config().set_secure(False).add_key(csession.generate_key())
mgr = csession.Manager(cfg, csession.MemoryStore())
with mgr.load() as s:
    s["n"] = 1
    cookie = mgr.commit(s).split(";")[0]
with mgr.load(cookie) as s:
    assert s["n"] == 1, s.to_dict()
import csession.wsgi
try:
    import flask
except ImportError:
    pass
else:
    import csession.flask
print(csession.__file__)
print(csession.library_path())
print(csession.load_library()._name)
"""


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cmake, cls.build, cls.pydir = sys.argv[1:4]
        cls.work = tempfile.mkdtemp(prefix="csession-py-install-")
        cls.prefix = os.path.join(cls.work, "prefix")
        env = dict(os.environ)
        cls.root = cls.prefix  # where the library ends up
        if os.path.isabs(cls.pydir):
            # An absolute place outside the prefix: staged, never the real one.
            env["DESTDIR"] = os.path.join(cls.work, "stage")
            cls.site = env["DESTDIR"] + cls.pydir
            cls.root = env["DESTDIR"] + cls.prefix
        else:
            cls.site = os.path.join(cls.prefix, cls.pydir)
        # --component: cmake then writes install_manifest_Unspecified.txt,
        # not install_manifest.txt, which a `sudo cmake --install` of the
        # same build leaves owned by root (every file is in that component).
        subprocess.run([cls.cmake, "--install", cls.build, "--prefix", cls.prefix,
                        "--component", "Unspecified"], env=env,
                       check=True, stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def probe(self, pythonpath, **extra_env):
        env = {k: v for k, v in os.environ.items()
               if k not in ("CSESSION_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
        env.update(PYTHONPATH=pythonpath, **extra_env)
        out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=self.work,
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.split()

    def test_installed_package_finds_the_installed_library(self):
        package, chosen, loaded = self.probe(self.site)
        self.assertEqual(package, os.path.join(self.site, "csession", "__init__.py"))
        self.assertTrue(chosen.startswith(self.root + os.sep), chosen)
        self.assertEqual(loaded, chosen)
        self.assertTrue(os.path.exists(chosen))

    def test_csession_library_still_wins(self):
        other = os.path.join(self.work, "elsewhere", "libcsession.so")
        os.makedirs(os.path.dirname(other), exist_ok=True)
        shutil.copy(self.probe(self.site)[1], other)
        self.assertEqual(self.probe(self.site, CSESSION_LIBRARY=other)[1:], [other, other])

    def test_copied_package_uses_the_recorded_library_dir(self):
        # Away from the prefix, the relative place finds nothing: the
        # absolute one recorded at install time does.
        if os.path.isabs(self.pydir):
            self.skipTest("staged install: the recorded absolute directory is not there")
        copy = os.path.join(self.work, "copy")
        shutil.copytree(os.path.join(self.site, "csession"), os.path.join(copy, "csession"))
        chosen = self.probe(copy)[1]
        self.assertTrue(chosen.startswith(self.prefix + os.sep), chosen)

    def test_moved_prefix_still_works(self):
        if os.path.isabs(self.pydir):
            self.skipTest("the package is not inside the prefix")
        moved = os.path.join(self.work, "moved")
        shutil.copytree(self.prefix, moved, symlinks=True)
        package, chosen, _ = self.probe(os.path.join(moved, self.pydir))
        self.assertTrue(package.startswith(moved + os.sep), package)
        self.assertTrue(chosen.startswith(moved + os.sep), chosen)


class SiteDirTest(unittest.TestCase):
    def test_site_dir_is_searched(self):
        # For a prefix holding one of this interpreter's site directories,
        # the directory chosen is one the interpreter searches.
        sys.path.insert(0, os.path.join(SOURCE, "cmake"))
        import python_site_dir
        import site
        checked = 0
        for prefix in ("/usr/local", "/usr", sys.prefix):
            searched = [p for p in site.getsitepackages() + sys.path
                        if python_site_dir.lib_dir_under(p, prefix)]
            if searched:
                chosen = os.path.join(prefix, python_site_dir.site_dir(prefix))
                self.assertIn(chosen, searched, prefix)
                checked += 1
        self.assertGreater(checked, 0)
        rel = python_site_dir.site_dir(os.path.join(os.sep, "nonexistent", "prefix"))
        self.assertTrue(rel.startswith("lib"), rel)  # the standard layout
        self.assertIsNone(python_site_dir.lib_dir_under("/usr/local/lib/x", "/usr"))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    unittest.main(argv=sys.argv[:1] + sys.argv[4:], verbosity=2)
