"""How static files are stored for production: WhiteNoise's hashed and compressed copies."""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

# ``import … from "./lib.js";`` in the studio's own modules (static/js/); third-party scripts are left as
# they ship (Django's own switch for this rewrites every script, and htmx's extensions do not survive it).
ES_MODULE_IMPORT = (
    r"""(?P<matched>import(?s:(?P<import>[\s\{].*?))\s*from\s*['"](?P<url>\./[\w.-]+\.js)["']\s*;)""",
    """import%(import)s from "%(url)s";""",
)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Also rewrites the imports between the studio's ES modules to the hashed names, so a module never
    loads a stale copy of another after a release."""

    patterns = (*ManifestStaticFilesStorage.patterns, ("js/*.js", (ES_MODULE_IMPORT,)))
