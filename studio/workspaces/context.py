from studio.workspaces.models import Membership


def workspaces(request):
    """The switcher's list and the current workspace (from the URL's ``slug``), in one query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    mine = list(Membership.objects.filter(user_id=user.pk).select_related("workspace"))
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get("slug") if match else None
    current = next((m for m in mine if m.workspace.slug == slug), None)
    return {"my_memberships": mine, "current_membership": current}
