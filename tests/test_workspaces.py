import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from studio.workspaces import services
from studio.workspaces.models import Invite, Membership, Workspace
from tests.conftest import make_user


def test_signup_then_first_workspace(client, db):
    response = client.post(
        reverse("signup"),
        {"username": "newbie", "password1": "a sturdy passphrase 42", "password2": "a sturdy passphrase 42"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("workspaces:create")
    response = client.post(reverse("workspaces:create"), {"name": "Night Shift"})
    workspace = Workspace.objects.get(name="Night Shift")
    assert response["Location"] == reverse("workspaces:detail", kwargs={"slug": workspace.slug})
    assert Membership.objects.get(workspace=workspace).role == "owner"


def test_signup_mismatched_passwords_keeps_the_username(client, db):
    response = client.post(
        reverse("signup"), {"username": "keepme", "password1": "a sturdy passphrase 42", "password2": "nope"}
    )
    assert response.status_code == 200
    assert b'value="keepme"' in response.content
    assert b"didn" in response.content  # "The two password fields didn't match."


def test_invite_is_single_use(world):
    invite = services.create_invite(workspace=world.workspace, role="editor", created_by=world.owner.user)
    newcomer = make_user("newcomer")
    membership = services.accept_invite(token=invite.token, user=newcomer)
    assert membership.role == "editor"
    with pytest.raises(ValidationError, match="not valid any more"):
        services.accept_invite(token=invite.token, user=make_user("latecomer"))


@pytest.mark.parametrize("spoil", ["revoked", "expired"])
def test_spoiled_invite_is_refused(world, spoil):
    invite = services.create_invite(workspace=world.workspace, role="editor", created_by=world.owner.user)
    if spoil == "revoked":
        services.revoke_invite(invite=invite)
    else:
        Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    client = world.outsider.client
    response = client.post(reverse("invite_accept", kwargs={"token": invite.token}))
    assert response.status_code == 410
    assert not Membership.objects.filter(workspace=world.workspace, user=world.outsider.user).exists()


def test_unknown_invite_token_is_404(world):
    assert world.outsider.client.get(reverse("invite_accept", kwargs={"token": "x" * 43})).status_code == 404


def test_invite_tokens_are_long_and_random(world):
    tokens = {
        services.create_invite(workspace=world.workspace, role="viewer", created_by=None).token
        for _ in range(20)
    }
    assert len(tokens) == 20 and all(len(t) >= 43 for t in tokens)


def test_last_owner_cannot_be_demoted_or_leave(world):
    with pytest.raises(ValidationError, match="at least one owner"):
        services.change_role(membership=world.owner.membership, role="editor")
    with pytest.raises(ValidationError, match="last owner"):
        services.remove_member(membership=world.owner.membership)
    services.change_role(membership=world.editor.membership, role="owner")
    services.change_role(membership=world.owner.membership, role="viewer")
    assert Membership.objects.get(pk=world.owner.membership.pk).role == "viewer"


def test_last_owner_leaving_through_the_page_gets_a_message(world):
    url = reverse("workspaces:member_remove", kwargs={"slug": "acme", "member_id": world.owner.membership.pk})
    response = world.owner.client.post(url, follow=True)
    assert b"The last owner cannot leave" in response.content
    assert Membership.objects.filter(pk=world.owner.membership.pk).exists()


def test_member_can_leave(world):
    url = reverse(
        "workspaces:member_remove", kwargs={"slug": "acme", "member_id": world.viewer.membership.pk}
    )
    assert world.viewer.client.post(url).status_code == 302
    assert not Membership.objects.filter(pk=world.viewer.membership.pk).exists()


def test_editor_cannot_remove_others(world):
    url = reverse(
        "workspaces:member_remove", kwargs={"slug": "acme", "member_id": world.viewer.membership.pk}
    )
    assert world.editor.client.post(url).status_code == 403


def test_switcher_lists_only_my_workspaces(world):
    services.create_workspace(name="Side gig", owner=world.editor.user)
    page = world.editor.client.get(reverse("workspaces:detail", kwargs={"slug": "acme"})).content.decode()
    assert "Side gig" in page and "Rival" not in page


def test_createworkspace_is_idempotent(db, capsys):
    user = make_user("boss")
    call_command("createworkspace", "studio-a", "--owner", "boss")
    call_command("createworkspace", "studio-a", "--owner", "boss")
    assert Workspace.objects.filter(slug="studio-a").count() == 1
    assert Membership.objects.get(workspace__slug="studio-a", user=user).role == "owner"
    assert "Exists" in capsys.readouterr().out


def test_demo_command_prints_a_working_login(db, capsys, client):
    call_command("demo")
    call_command("demo")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    username, password = line.removeprefix("login: ").split(" / ")
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302 and client.session["_auth_user_id"]
    assert client.get(reverse("home")).status_code == 302


def test_projects_rename_and_archive(world):
    client = world.editor.client
    kwargs = {"slug": "acme", "project_id": world.project.public_id}
    client.post(reverse("projects:rename", kwargs=kwargs), {"name": "Teaser"})
    client.post(
        reverse("projects:archive", kwargs=kwargs), {"archived": "1"}, follow=True
    )  # reads the flash message
    home = client.get(reverse("workspaces:detail", kwargs={"slug": "acme"})).content.decode()
    archived = client.get(
        reverse("workspaces:detail", kwargs={"slug": "acme"}) + "?archived=1"
    ).content.decode()
    assert "Teaser" not in home and "Teaser" in archived


def test_viewing_a_page_again_does_not_rewrite_the_session(world):
    from django.urls import reverse

    url = reverse(
        "projects:detail", kwargs={"slug": world.workspace.slug, "project_id": world.project.public_id}
    )
    world.owner.client.get(url)
    again = world.owner.client.get(url)
    assert again.status_code == 200 and "sessionid" not in again.cookies
    other = reverse("workspaces:detail", kwargs={"slug": world.workspace.slug})
    assert "sessionid" not in world.owner.client.get(other).cookies  # same workspace: nothing to note
