"""A throw-away certificate authority for the secured test brokers, made with the openssl command.

``make_ca(folder)`` writes a CA; ``ca.issue(name, ...)`` a key and certificate signed by it (PEM; the key
optionally encrypted with a password, PKCS#8 as both Kafka and librdkafka read it). Tests use it for the
broker's certificate (SAN 127.0.0.1 and localhost), client certificates for mutual TLS and, from a second
CA, certificates nobody trusts.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from streams.errors import ConfigurationError


def _openssl(*args: str, cwd: Path) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise ConfigurationError("making test certificates needs the openssl command (apt-get install openssl)")
    done = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()}")


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path
    password: str | None


@dataclass(frozen=True)
class CertificateAuthority:
    folder: Path
    name: str

    @property
    def cert(self) -> Path:
        return self.folder / f"{self.name}.pem"

    @property
    def key(self) -> Path:
        return self.folder / f"{self.name}.key"

    def issue(self, name: str, *, server: bool = False, password: str | None = None) -> Issued:
        """A key and certificate for ``name`` (CN), signed by this CA; ``server``: SAN 127.0.0.1, localhost."""
        key, csr, cert = (self.folder / f"{name}.key", self.folder / f"{name}.csr", self.folder / f"{name}.pem")
        cipher = ["-aes256", "-pass", f"pass:{password}"] if password else []
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", *cipher, "-out", str(key),
                 cwd=self.folder)
        passin = ["-passin", f"pass:{password}"] if password else []
        _openssl("req", "-new", "-key", str(key), *passin, "-subj", f"/CN={name}", "-out", str(csr), cwd=self.folder)
        ext = self.folder / f"{name}.ext"
        lines = ["basicConstraints=CA:FALSE",
                 "extendedKeyUsage=" + ("serverAuth,clientAuth" if server else "clientAuth")]
        if server:
            lines.append("subjectAltName=IP:127.0.0.1,DNS:localhost")
        ext.write_text("\n".join(lines) + "\n")
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                 "-CAcreateserial", "-days", "2", "-sha256", "-extfile", str(ext), "-out", str(cert), cwd=self.folder)
        return Issued(cert=cert, key=key, password=password)


def make_ca(folder: Path, name: str = "ca") -> CertificateAuthority:
    folder.mkdir(parents=True, exist_ok=True)
    ca = CertificateAuthority(folder, name)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca.key), "-out", str(ca.cert),
             "-days", "2", "-subj", f"/CN=edfi-stream test {name}", cwd=folder)
    return ca
