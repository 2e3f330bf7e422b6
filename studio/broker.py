"""The embedded broker: kombu's filesystem transport, with each message written whole before it shows.

kombu writes a message straight into the queue folder (create, then lock, then write), and a consumer
that lists the folder between the create and the write takes an empty file, fails to decode it and
stops consuming (celery/kombu#1551). Here a message is written under a name the consumer skips and then
renamed into place, so it appears complete or not at all. Everything else is kombu's.
"""

from __future__ import annotations

import os
import time
import uuid

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.partial")  # never matches '<x>.<queue>.msg'
        try:
            with open(partial, "wb") as fh:
                fh.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
