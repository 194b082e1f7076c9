"""Apache Kafka's jars, fetched from Maven Central by the small Maven project deploy/kafka/pom.xml.

``kafka_classpath()`` returns the folder of jars (the broker's classpath), fetching it on first use:
``mvn dependency:copy-dependencies`` into a temporary folder, renamed into place when complete, under a file
lock so that two test sessions never fetch at once. The folder is
``$EDFI_STREAM_KAFKA_LIBS`` if set, else ``~/.cache/edfi-stream/kafka-<version>/libs``.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from streams.errors import ConfigurationError

LIBS_ENV = "EDFI_STREAM_KAFKA_LIBS"
POM_ENV = "EDFI_STREAM_KAFKA_POM"
_REPO_POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"


def pom_path() -> Path:
    path = Path(os.environ.get(POM_ENV) or _REPO_POM)
    if not path.exists():
        raise ConfigurationError(f"the Apache Kafka broker needs {path} (deploy/kafka/pom.xml of the repository; "
                                 f"or set {POM_ENV})")
    return path


def kafka_version(pom: Path | None = None) -> str:
    found = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", (pom or pom_path()).read_text())
    if not found:
        raise ConfigurationError(f"no <kafka.version> in {pom or pom_path()}")
    return found.group(1).strip()


def libs_dir() -> Path:
    configured = os.environ.get(LIBS_ENV)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "edfi-stream" / f"kafka-{kafka_version()}" / "libs"


def _complete(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("kafka_2.13-*.jar")) and any(folder.glob("kafka-server-*.jar"))


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ConfigurationError("the Apache Kafka broker needs Java 17 or newer "
                                 "(apt-get install openjdk-17-jre-headless)")
    return java


def kafka_classpath(timeout: float = 900.0) -> Path:
    """The folder of the broker's jars, fetched with Maven if it is not there yet."""
    target = libs_dir()
    if _complete(target):
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ConfigurationError(f"the Apache Kafka jars are not in {target} and Maven is missing "
                                 "(apt-get install maven), needed to fetch them")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _complete(target):  # another session fetched them while this one waited
            return target
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=target.parent))
        try:
            done = subprocess.run([mvn, "-q", "-B", "-f", str(pom_path()), "dependency:copy-dependencies",
                                   f"-DoutputDirectory={staging}"], capture_output=True, text=True,
                                  timeout=timeout, check=False)
            if done.returncode != 0 or not _complete(staging):
                tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
                raise ConfigurationError("fetching Apache Kafka with Maven failed (mvn exit "
                                         f"{done.returncode}):\n" + "\n".join(tail))
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":  # `python -m streams.broker.jars`: fetch now (CI does, before the tests)
    print(kafka_classpath())
