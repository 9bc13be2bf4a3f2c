"""Django's makemessages, also extracting `_t(...)`: the modules that need both import `gettext as _t`."""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_t"]
