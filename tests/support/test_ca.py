"""A certificate authority made by the test, with openssl, in a temp folder.

    ca = TestCA(directory)             # CA key + self-signed CA cert
    cert, key = ca.issue("server", dns=["localhost"], ips=["127.0.0.1"])
    ca.cert_path                       # PEM to give the agent as caFile
    TestCA(directory, backdate_days=2) # issued 2 days ago (as real certificates are,
                                       # so a device clock hours behind still accepts them)

Everything is created fresh per test run; nothing is trusted system-wide."""
import os
import subprocess


def _openssl(*args, cwd, backdate_days=0):
    # openssl here has no -not_before: Debian's faketime runs it in the past.
    prefix = ["faketime", "-f", "-%dd" % backdate_days] if backdate_days else []
    subprocess.run(prefix + ["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


class TestCA:
    def __init__(self, directory, name="dunebugger-test-ca", backdate_days=0):
        self.dir = directory
        self.backdate_days = backdate_days
        # Valid 2 days from now whatever the backdating.
        self.days = str(2 + backdate_days)
        os.makedirs(directory, exist_ok=True)
        self.key_path = os.path.join(directory, name + ".key")
        self.cert_path = os.path.join(directory, name + ".pem")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", self.key_path, "-out", self.cert_path, "-days", self.days, "-subj", "/CN=" + name,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory, backdate_days=backdate_days)

    def issue(self, name, dns=("localhost",), ips=("127.0.0.1",)):
        """Returns (cert_path, key_path) for a server certificate signed by this CA."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        san = ",".join(["DNS:" + d for d in dns] + ["IP:" + i for i in ips])
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n" % san)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=" + name, cwd=self.dir)
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert_path, "-CAkey", self.key_path, "-CAcreateserial",
                 "-out", cert, "-days", self.days, "-extfile", ext, cwd=self.dir, backdate_days=self.backdate_days)
        return cert, key

    def server_context(self, name="server", dns=("localhost",), ips=("127.0.0.1",)):
        """An ssl.SSLContext for a Python server presenting a cert from this CA."""
        import ssl
        cert, key = self.issue(name, dns, ips)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        return ctx
