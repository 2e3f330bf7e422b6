from django.conf import settings
from django.db import models

from studio.providers import crypto


class ProviderCredential(models.Model):
    """A workspace's own key for one provider. Stored encrypted; only the last four characters are shown."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="credentials"
    )
    provider = models.CharField(max_length=32)
    encrypted_key = models.TextField()
    last_four = models.CharField(max_length=4)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_message = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "provider"], name="one_key_per_provider")]

    def __str__(self) -> str:
        return f"{self.provider} key …{self.last_four}"

    def __repr__(self) -> str:  # never the key, not even encrypted
        return f"<ProviderCredential {self.provider} …{self.last_four}>"

    def set_key(self, key: str) -> None:
        key = key.strip()
        self.encrypted_key = crypto.encrypt(key)
        self.last_four = key[-4:]

    def get_key(self) -> str:
        return crypto.decrypt(self.encrypted_key)


class RateBucket(models.Model):
    """A token bucket every worker shares, on the database when Redis is not there (``buckets.py``).

    ``key`` names a vendor's limit for one account (a hash of its key, never the key)."""

    key = models.CharField(max_length=120, unique=True)
    tokens = models.FloatField()
    stamp = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.2f}"
