import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changxin.settings")
application = get_wsgi_application()

if os.environ.get("CHANGXIN_WARM_UP", "1") != "0":  # triage's models load at boot (triage/warmup.py)
    from changxin.triage.warmup import warm_up

    warm_up()
