"""`manage.py seedadmin KEY`: an admin user and a logged-in session under a known key,
so that checks can act as a signed-in admin without a login round trip."""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin user and a session for it under KEY."

    def add_arguments(self, parser):
        parser.add_argument("key")

    def handle(self, *args, key, **options):
        user, _ = User.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.org"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password("pare-test-admin")
        user.save()
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        # A key given to SessionStore() is dropped when no such session exists yet.
        session._session_key = key
        session.save(must_create=True)
        self.stdout.write(f"session {key} for {user.username}")
