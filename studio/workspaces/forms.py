from django import forms

from studio.workspaces.models import Membership


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100, label="Workspace name")


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
