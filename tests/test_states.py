import itertools
import threading

import pytest
from django.db import connection

from studio.generations.models import Generation
from studio.generations.states import ALLOWED, IllegalTransition, transition
from tests.factories import make_generation

S = Generation.Status
PAIRS = list(itertools.product(S.values, S.values))


@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_every_edge_is_either_allowed_and_moves_or_refused_loudly(world, src, dst):
    g = make_generation(world.workspace, status=src)
    if dst in ALLOWED[src]:
        assert transition(g.pk, src=src, dst=dst) is True
        g.refresh_from_db()
        assert g.status == dst
        if dst in Generation.FINISHED:
            assert g.finished_at is not None and g.lease_until is None and g.next_poll_at is None
    else:
        with pytest.raises(IllegalTransition):
            transition(g.pk, src=src, dst=dst)
        g.refresh_from_db()
        assert g.status == src


def test_finished_states_are_final():
    for state in Generation.FINISHED:
        assert ALLOWED[state] == frozenset()


def test_a_transition_from_the_wrong_state_loses_quietly(world):
    g = make_generation(world.workspace, status=S.SUBMITTED)
    assert transition(g.pk, src=S.QUEUED, dst=S.SUBMITTING) is False
    g.refresh_from_db()
    assert g.status == S.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_two_claims_on_one_row_exactly_one_wins(world):
    g = make_generation(world.workspace, status=S.QUEUED)
    results, barrier = [], threading.Barrier(8)

    def claim():
        barrier.wait()
        try:
            results.append(transition(g.pk, src=S.QUEUED, dst=S.SUBMITTING))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
