"""The embedded broker: a consumer racing a producer never takes a half-written message."""

from __future__ import annotations

import threading

from kombu import Connection

from studio.broker import Transport

MESSAGES = 300


def test_a_consumer_racing_the_producer_only_ever_reads_whole_messages(tmp_path):
    folders = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
    }
    received: list[dict] = []
    done = threading.Event()

    def consume() -> None:
        with Connection(transport=Transport, transport_options=folders) as conn:
            queue = conn.SimpleQueue("race")
            while len(received) < MESSAGES:
                try:
                    message = queue.get(timeout=0.01)
                except queue.Empty:
                    if done.is_set() and not any(tmp_path.glob("*.race.msg")):
                        return
                    continue
                received.append(message.payload)
                message.ack()

    # Declare the queue once first: kombu's exchange table (not the messages, which this is about) is
    # also written in place, and two connections declaring at the same instant can race on it.
    with Connection(transport=Transport, transport_options=folders) as conn:
        conn.SimpleQueue("race").close()
    consumer = threading.Thread(target=consume)
    consumer.start()
    with Connection(transport=Transport, transport_options=folders) as conn:
        queue = conn.SimpleQueue("race")
        for n in range(MESSAGES):
            queue.put({"n": n, "padding": "x" * 200_000})
    done.set()
    consumer.join(60)
    assert sorted(m["n"] for m in received) == list(range(MESSAGES))
    assert not list(tmp_path.glob(".*.partial"))


def test_sweeps_have_their_own_queue_and_every_worker_consumes_both():
    from studio.celery import app
    from studio.generations.tasks import submit_generation_task, sweep_task

    def queue_of(task) -> str:
        return app.amqp.router.route({}, task.name)["queue"].name

    assert queue_of(sweep_task) == "sweep" and queue_of(submit_generation_task) == "celery"
    assert set(app.amqp.queues) == {"sweep", "celery"}  # what a worker started without -Q consumes
