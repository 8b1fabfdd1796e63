"""The limit of bench/intake_bench.py: a bare Django view that inserts one row, nothing else.

Settings, URLconf, view and WSGI application in one module, served by gunicorn with the intake's
configuration (2 sync workers) against the same PostgreSQL database:

    DJANGO_SETTINGS_MODULE=bench.limit_site DATABASE_URL=postgres://… gunicorn bench.limit_site:application

It parses the same JSON body, inserts title and content with one INSERT … RETURNING through
Django's connection (autocommit, persistent connection as in changxin's settings) and answers 201
with the new id: what any Django intake must at least do.
"""

from __future__ import annotations

import json
import os

import dj_database_url

SECRET_KEY = "bench-limit-site"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
USE_TZ = True
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/changxin_bench_intake"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
TABLE = "bench_limit_row"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, title varchar(120) NOT NULL, "
    "content text NOT NULL, received_at timestamptz NOT NULL)"
)


def insert(request):
    from django.db import connection
    from django.http import HttpResponseNotAllowed, JsonResponse

    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (title, content, received_at) VALUES (%s, %s, now()) RETURNING id",
            [body["title"][:120], body["content"]],
        )
        pk = cursor.fetchone()[0]
    return JsonResponse({"id": pk}, status=201)


def _urls():
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [path("insert", csrf_exempt(insert))]


def __getattr__(name):  # urlpatterns built lazily: Django is not set up when settings are imported
    if name == "urlpatterns":
        return _urls()
    if name == "application":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", __name__)
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()
    raise AttributeError(name)
