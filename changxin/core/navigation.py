"""The sections of the top navigation, declared by each app in its AppConfig:

    class InsightConfig(AppConfig):
        navigation = [
            NavEntry(key="insight", title=_("Data"), subtitle=_("Data and rankings"),
                     url_names=("insight:home",), visible=roles.may_see_insight, order=50,
                     badge=None),   # optional (user) -> int | None, shown beside the title
        ]

`core/context_processors.navigation` collects the entries of every installed app, in `order`. An
entry links to the first of its URL names that resolves; while none does (the app is not built
yet) it is shown as "not yet available", and a placeholder's `coming` text says what is coming
when its title is tapped. Core declares placeholders for the wings still to come;
an app's own entry with the same key replaces the placeholder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.apps import apps
from django.urls import NoReverseMatch, reverse


def everyone(user) -> bool:
    return True


@dataclass(frozen=True)
class NavEntry:
    key: str
    title: str
    subtitle: str = ""
    # URL names tried in order; or a callable (user) -> names, when roles land on different screens
    url_names: Sequence[str] | Callable[[object], Sequence[str]] = ()
    visible: Callable[[object], bool] = everyone
    order: int = 100
    badge: Callable[[object], int | None] | None = None
    # path prefixes that also mark the section current (beyond its own URL)
    active_paths: tuple[str, ...] = ()
    placeholder: bool = False
    # a placeholder's word on what is coming, shown when its title is tapped (a <details> popover)
    coming: str = ""

    def names_for(self, user) -> Sequence[str]:
        return self.url_names(user) if callable(self.url_names) else self.url_names

    def url_for(self, user) -> str | None:
        for name in self.names_for(user):
            try:
                return reverse(name)
            except NoReverseMatch:
                continue
        return None


def entries() -> list[NavEntry]:
    """Every app's entries in order; an app's own entry replaces a placeholder of the same key."""
    found: dict[str, NavEntry] = {}
    for config in apps.get_app_configs():
        for entry in getattr(config, "navigation", ()):
            if entry.key in found and entry.placeholder:
                continue
            if entry.key in found and not found[entry.key].placeholder:
                raise ValueError(f"two apps declare the navigation entry {entry.key!r}")
            found[entry.key] = entry
    return sorted(found.values(), key=lambda e: (e.order, e.key))


def sections_for(user, path: str) -> list[dict]:
    """The entries `user` may see, as the template shows them."""
    items = []
    for entry in entries():
        if not entry.visible(user):
            continue
        url = entry.url_for(user)
        items.append(
            {
                "key": entry.key,
                "title": entry.title,
                "subtitle": entry.subtitle,
                "url": url,
                "active": bool(url and url != "/" and path.startswith(url))
                or bool(entry.active_paths and path.startswith(entry.active_paths)),
                "badge": entry.badge(user) if entry.badge and url else None,
                "coming": entry.coming if entry.placeholder and not url else "",
            }
        )
    return items
