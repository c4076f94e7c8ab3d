"""What the browser tests share: the token the pages' server is started with (one per session)."""

from __future__ import annotations

import uuid

TOKEN = "web-" + uuid.uuid4().hex
