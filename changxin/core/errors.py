"""One domain error for every app: `DomainError(code, message, field)`.

Services raise it when a rule, the actor or the data does not allow an action; nothing has been
changed when it is raised. The REST API (api/errors.py), the screens and the portal map it the same
way for every app: `kind` says which family the refusal belongs to, `field` names the input at fault.

  kind "forbidden"  the actor may not do this (API 403)
  kind "conflict"   the object is not in a state for this: wrong state, a guard, a stale version (409)
  kind "invalid"    the data given is bad; `field` names it (422)
"""

from __future__ import annotations

FORBIDDEN, CONFLICT, INVALID = "forbidden", "conflict", "invalid"


class DomainError(Exception):
    def __init__(self, code: str, message, field: str | None = None, *, kind: str = INVALID):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.field = field
        self.kind = kind

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {str(self.message)!r}, field={self.field!r}, kind={self.kind!r})"
