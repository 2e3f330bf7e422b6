"""The brokers, as kombu ships them but for two fixes the fault suite (tests/faults) found.

The embedded broker: kombu's filesystem transport, with each message written whole before it shows.

kombu writes a message straight into the queue folder (create, then lock, then write), and a consumer
that lists the folder between the create and the write takes an empty file, fails to decode it and
stops consuming (celery/kombu#1551). Here a message is written under a name the consumer skips and then
renamed into place, so it appears complete or not at all.

Redis: a worker whose broker restarts must reconnect, not die (see RedisChannel.close).
"""

from __future__ import annotations

import os
import time
import uuid

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
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


class RedisChannel(redis.Channel):
    def close(self):
        if self.connection is not None and self.connection.client is None:
            # The worker lost Redis and Celery has already collected the connection before closing it;
            # kombu would now requeue the prefetched messages through that dead connection and crash
            # the worker with an AttributeError. Skip that: they stay in Redis's unacked set, which
            # kombu restores after its visibility timeout, and they are only nudges (the sweeper finds
            # every due job in the database).
            self._qos = None
        super().close()


class RedisTransport(redis.Transport):
    """kombu's Redis transport, minus a crash when the broker restarts under a worker."""

    Channel = RedisChannel
