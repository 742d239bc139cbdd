"""The app as a clinic runs it: production settings, real secrets, HTTPS with a
throw-away CA, gunicorn and the reminder worker as the Procfile starts them, mail
through a real SMTP server. For tests that must see what production does."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config.settings import new_vapid_private_key
from server.crypto import new_key_spec
from tests.e2e.test_procfile import Output, free_port, procfile

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WAIT = 60  # seconds: a bound for a process start, not a wait


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_tls(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Between test CA"))
        .issuer_name(_name("Between test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@dataclass
class Clinic:
    """A running production deployment: `url`, `env`, `flask(...)`, `http` (verifies TLS)."""

    url: str
    env: dict
    ca: Path
    processes: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """`flask --app server …` as an operator runs it, in the deployment's environment."""
        return subprocess.run(
            [str(BIN / "flask"), "--app", "server", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    @property
    def http(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE outranks `verify`
        session.verify = str(self.ca)
        session.headers["Origin"] = self.url
        return session

    def stop(self) -> None:
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def production_env(database_url: str, smtp_url: str, port: int) -> dict:
    return {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "BETWEEN_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "FIELD_ENCRYPTION_KEYS": new_key_spec(),
        "VAPID_PRIVATE_KEY": new_vapid_private_key(),
        "VAPID_SUBJECT": "mailto:operator@clinic.test",
        "DATABASE_URL": database_url,
        "PUBLIC_URL": f"https://127.0.0.1:{port}",
        "SMTP_URL": smtp_url,
        "MAIL_FROM": "Between <between@clinic.test>",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "REMINDER_POLL_SECONDS": "0.5",
    }


def start_clinic(tmp_path: Path, database_url: str, smtp_url: str) -> Clinic:
    """Release, then web (gunicorn over HTTPS) and worker, each as the Procfile says."""
    ca, cert, key = make_tls(tmp_path)
    port = free_port()
    env = production_env(database_url, smtp_url, port)
    env.pop("TEST_DATABASE_URL", None)
    clinic = Clinic(url=f"https://127.0.0.1:{port}", env=env, ca=ca)
    release = subprocess.run(
        shlex.split(procfile()["release"]),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert release.returncode == 0, release.stderr
    web = shlex.split(procfile()["web"]) + ["--certfile", str(cert), "--keyfile", str(key)]
    for name, command in (("web", web), ("worker", shlex.split(procfile()["worker"]))):
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        clinic.processes.append(proc)
        clinic.outputs[name] = Output(proc)
    try:
        clinic.outputs["worker"].wait_for("worker started")
        _wait_healthy(clinic)
    except BaseException:
        clinic.stop()
        raise
    return clinic


def _wait_healthy(clinic: Clinic) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            if clinic.http.get(clinic.url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, clinic.outputs["web"].lines[-20:]
        time.sleep(0.1)  # a poll interval: gunicorn is still booting
