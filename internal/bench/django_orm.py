"""The Django side of make bench's "Django ORM" scenario (internal/bench/django.go).

The same work b2badmin does, written as a Django back office would write it
with its ORM, on the same database: unmanaged models over the real tables,
transactions and row locks as Django offers them.

    django_orm.py deactivate IDS_FILE   one transaction: lock the users, flip
                                        them, blacklist their outstanding
                                        tokens, delete their sessions, write
                                        the run and one log row per user
    django_orm.py update IDS_FILE NAME  one transaction per user: lock it,
                                        set first_name to NAME<n>, write its
                                        log row

The DSN comes from BENCH_DSN (postgres://user:password@host:port/db).
Prints what it changed as JSON on stdout.
"""

import base64
import json
import os
import sys
import uuid
import zlib
from urllib.parse import unquote, urlparse

import django
from django.conf import settings

dsn = urlparse(os.environ["BENCH_DSN"])
settings.configure(
    DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dsn.path.lstrip("/"),
        "USER": unquote(dsn.username or ""),
        "PASSWORD": unquote(dsn.password or ""),
        "HOST": dsn.hostname,
        "PORT": dsn.port,
    }},
    INSTALLED_APPS=[],
    USE_TZ=True,
    SECRET_KEY="bench",
)
django.setup()

from django.db import models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402


def model(name, table, **fields):
    meta = type("Meta", (), {"app_label": "bench", "managed": False, "db_table": table})
    return type(name, (models.Model,), {"__module__": __name__, "Meta": meta, **fields})


User = model("User", "rbac_user",
             email=models.CharField(max_length=254),
             first_name=models.CharField(max_length=150),
             is_active=models.BooleanField())
OutstandingToken = model("OutstandingToken", "token_blacklist_outstandingtoken",
                         user_id=models.BigIntegerField(null=True))
BlacklistedToken = model("BlacklistedToken", "token_blacklist_blacklistedtoken",
                         token_id=models.BigIntegerField(unique=True),
                         blacklisted_at=models.DateTimeField())
Session = model("Session", "django_session",
                session_key=models.CharField(max_length=40, primary_key=True),
                session_data=models.TextField(),
                expire_date=models.DateTimeField())
Run = model("Run", "api_operationrun",
            id=models.UUIDField(primary_key=True),
            started_at=models.DateTimeField(), ended_at=models.DateTimeField(null=True),
            actor=models.CharField(max_length=255), command=models.TextField(), target=models.TextField(),
            mode=models.CharField(max_length=32), outcome=models.CharField(max_length=32),
            users_changed=models.IntegerField(null=True), changes=models.BigIntegerField(),
            tokens_blacklisted=models.BigIntegerField(), sessions_deleted=models.BigIntegerField(),
            devices_deleted=models.BigIntegerField(), batch_file=models.TextField(), batch_sha256=models.TextField(),
            last_line=models.IntegerField(null=True))
Log = model("Log", "api_operationlog",
            id=models.BigAutoField(primary_key=True),
            created_at=models.DateTimeField(), actor=models.CharField(max_length=255),
            action=models.CharField(max_length=64), target_user_id=models.BigIntegerField(null=True),
            before=models.JSONField(), after=models.JSONField(), detail=models.JSONField(),
            reason=models.TextField(), command=models.TextField(), run_id=models.UUIDField(null=True),
            batch_file=models.TextField(), batch_line=models.IntegerField(null=True))


def session_user(data):
    """The _auth_user_id of an encoded session (no key is needed to read it)."""
    payload = data.split(":", 1)[0]
    compressed = payload.startswith(".")
    if compressed:
        payload = payload[1:]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if compressed:
        raw = zlib.decompress(raw)
    return json.loads(raw).get("_auth_user_id")


def deactivate(ids):
    now = timezone.now()
    with transaction.atomic():
        users = list(User.objects.select_for_update().filter(id__in=ids).order_by("id"))
        active = [u.id for u in users if u.is_active]
        User.objects.filter(id__in=active).update(is_active=False)
        done = set(BlacklistedToken.objects.filter(token_id__in=OutstandingToken.objects.filter(user_id__in=active).values("id"))
                   .values_list("token_id", flat=True))
        tokens = [t for t in OutstandingToken.objects.filter(user_id__in=active).values_list("id", flat=True) if t not in done]
        BlacklistedToken.objects.bulk_create([BlacklistedToken(token_id=t, blacklisted_at=now) for t in tokens],
                                             batch_size=5000, ignore_conflicts=True)
        # Django keeps no index of sessions by user: every session is read and decoded.
        want = {str(i) for i in active}
        dead = [s.session_key for s in Session.objects.only("session_key", "session_data").iterator(chunk_size=5000)
                if session_user(s.session_data) in want]
        for i in range(0, len(dead), 5000):
            Session.objects.filter(session_key__in=dead[i:i + 5000]).delete()
        run = Run.objects.create(id=uuid.uuid4(), started_at=now, ended_at=timezone.now(), actor="django",
                                 command="django_orm.py deactivate", target="", mode="command", outcome="committed",
                                 users_changed=len(active), changes=len(active), tokens_blacklisted=len(tokens),
                                 sessions_deleted=len(dead), devices_deleted=0, batch_file="", batch_sha256="",
                                 last_line=None)
        Log.objects.bulk_create([Log(created_at=now, actor="django", action="users.deactivate", target_user_id=i,
                                     before={"is_active": True}, after={"is_active": False}, detail={},
                                     reason="bench-django", command="django_orm.py deactivate", run_id=run.id,
                                     batch_file="", batch_line=None) for i in active], batch_size=5000)
    return {"users": len(active), "tokens": len(tokens), "sessions": len(dead)}


def update(ids, name):
    changed = 0
    for n, i in enumerate(ids, 1):
        with transaction.atomic():
            u = User.objects.select_for_update().get(id=i)
            before, u.first_name = u.first_name, f"{name}{n}"
            if before == u.first_name:
                continue
            u.save(update_fields=["first_name"])
            Log.objects.create(created_at=timezone.now(), actor="django", action="users.update", target_user_id=i,
                               before={"first_name": before}, after={"first_name": u.first_name}, detail={},
                               reason="bench-django", command="django_orm.py update", run_id=None,
                               batch_file="", batch_line=n)
            changed += 1
    return {"users": changed}


def main():
    verb, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        ids = [int(line) for line in f if line.strip()]
    if verb == "deactivate":
        out = deactivate(ids)
    elif verb == "update":
        out = update(ids, sys.argv[3])
    else:
        sys.exit("usage: django_orm.py deactivate|update IDS_FILE [NAME]")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
