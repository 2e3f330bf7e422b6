"""Per-workspace provider keys: encrypted at rest, never shown back, checked against the vendor."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.urls import reverse

from studio.providers.emulators import start_emulator
from studio.providers.models import ProviderCredential
from studio.providers.registry import api_key_for

KEY = "sk-live-abcdefghijklmnop-WXYZ"


@pytest.fixture
def jiekou(settings):
    emulator = start_emulator("jiekou", api_key=KEY, task_seconds=0.2)
    providers = {**settings.STUDIO_PROVIDERS}
    providers["jiekou"] = {
        **providers["jiekou"],
        "OPTIONS": {**providers["jiekou"]["OPTIONS"], "base_url": emulator.base_url},
    }
    settings.STUDIO_PROVIDERS = providers
    yield emulator
    emulator.stop()


def save(world, key=KEY):
    return world.owner.client.post(
        reverse("providers:key_set", kwargs={"slug": "acme", "provider": "jiekou"}), {"key": key}, follow=True
    )


def test_a_saved_key_is_encrypted_shown_only_by_its_last_four_and_checked(world, jiekou, caplog):
    caplog.set_level(logging.DEBUG)
    page = save(world).content.decode()
    credential = ProviderCredential.objects.get(workspace=world.workspace, provider="jiekou")
    assert KEY not in credential.encrypted_key and credential.last_four == "WXYZ"
    assert KEY not in page and "…WXYZ" in page and "accepted the key" in page
    assert KEY not in repr(credential) and KEY not in str(credential)
    assert api_key_for("jiekou", world.workspace.pk) == KEY
    assert KEY not in caplog.text


def test_a_wrong_key_is_saved_but_flagged(world, jiekou):
    page = save(world, "sk-wrong-key-0000").content.decode()
    assert "refused the key" in page or "refused the API key" in page
    assert ProviderCredential.objects.get(workspace=world.workspace).check_message


def test_a_key_that_is_not_a_key_is_refused(world):
    page = save(world, "short").content.decode()
    assert "does not look like an API key" in page
    assert not ProviderCredential.objects.exists()


def test_removing_a_key_falls_back_to_the_instance_key(world, jiekou, settings):
    save(world)
    world.owner.client.post(reverse("providers:key_remove", kwargs={"slug": "acme", "provider": "jiekou"}))
    assert not ProviderCredential.objects.exists()
    assert api_key_for("jiekou", world.workspace.pk) == ""


def test_another_workspace_never_uses_this_key(world, jiekou):
    save(world)
    assert api_key_for("jiekou", world.other_workspace.pk) == ""


def test_rotation_re_encrypts_with_the_new_first_key(world, jiekou, settings):
    save(world)
    before = ProviderCredential.objects.get().encrypted_key
    settings.STUDIO_SECRET_KEYS = [Fernet.generate_key().decode(), *settings.STUDIO_SECRET_KEYS]
    call_command("rotatekeys")
    after = ProviderCredential.objects.get()
    assert after.encrypted_key != before and after.get_key() == KEY
    settings.STUDIO_SECRET_KEYS = settings.STUDIO_SECRET_KEYS[:1]  # the old key is gone: still readable
    assert ProviderCredential.objects.get().get_key() == KEY
