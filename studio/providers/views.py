from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from studio.http import AuthenticatedRequest
from studio.providers import services
from studio.providers.catalog import PROVIDER_LABELS
from studio.providers.models import ProviderCredential
from studio.workspaces.access import get_membership


@require_GET
def keys(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug, owner=True)
    mine = {c.provider: c for c in ProviderCredential.objects.filter(workspace_id=membership.workspace_id)}
    rows = [
        {
            "provider": name,
            "label": PROVIDER_LABELS[name],
            "credential": mine.get(name),
            "instance_key": bool(settings.STUDIO_PROVIDERS[name]["OPTIONS"].get("api_key")),
        }
        for name in services.CLOUD_PROVIDERS
    ]
    return render(
        request,
        "providers/keys.html",
        {"membership": membership, "workspace": membership.workspace, "rows": rows},
    )


@require_POST
def key_set(request: AuthenticatedRequest, slug: str, provider: str):
    membership = get_membership(request, slug, owner=True)
    try:
        services.set_key(
            workspace=membership.workspace,
            provider=provider,
            key=request.POST.get("key", ""),
            user=request.user,
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        ok, message = services.check_key(workspace=membership.workspace, provider=provider)
        (messages.success if ok else messages.warning)(request, f"Key saved. {message}")
    return redirect("providers:keys", slug=slug)


@require_POST
def key_check(request: AuthenticatedRequest, slug: str, provider: str):
    membership = get_membership(request, slug, owner=True)
    ok, message = services.check_key(workspace=membership.workspace, provider=provider)
    (messages.success if ok else messages.error)(request, message)
    return redirect("providers:keys", slug=slug)


@require_POST
def key_remove(request: AuthenticatedRequest, slug: str, provider: str):
    membership = get_membership(request, slug, owner=True)
    if services.remove_key(workspace=membership.workspace, provider=provider):
        messages.success(request, "Key removed.")
    return redirect("providers:keys", slug=slug)
