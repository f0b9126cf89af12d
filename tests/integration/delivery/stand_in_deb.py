"""A real .deb with no files, for the deploy and migrate-docker tests: what
they read of a package is its control fields (Package, Version,
Architecture) and its file name."""
import os
import shutil
import subprocess
import tempfile


def build_deb(out_dir, version, arch):
    tree = tempfile.mkdtemp(prefix="dbr-deb-")
    try:
        os.makedirs(os.path.join(tree, "DEBIAN"))
        with open(os.path.join(tree, "DEBIAN", "control"), "w") as f:
            f.write("Package: dunebugger-remote\nVersion: %s\nArchitecture: %s\n"
                    "Maintainer: test <test@example.invalid>\nDescription: empty stand-in package\n" % (version, arch))
        deb = os.path.join(out_dir, "dunebugger-remote_%s_%s.deb" % (version, arch))
        subprocess.run(["dpkg-deb", "--root-owner-group", "--build", tree, deb], check=True, capture_output=True)
        return deb
    finally:
        shutil.rmtree(tree)
