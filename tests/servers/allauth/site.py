"""A minimal Django site on the real django-allauth, headless with usersessions (and mfa
for authenticator sign-ins), for Session Warden's tests (tests/src/real/allauth.rs).

    python site.py migrate
    python site.py seed EMAIL PASSWORD [TOTP_SECRET]
    python site.py runserver 127.0.0.1:PORT --noreload

ALLAUTH_DB names its SQLite file. The headless API answers under /_allauth/app/v1/.
"""

import os
import sys

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    SECRET_KEY="session-warden-tests-only-secret",
    ROOT_URLCONF="urls",
    USE_TZ=True,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "allauth",
        "allauth.account",
        "allauth.headless",
        "allauth.mfa",
        "allauth.usersessions",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "allauth.account.middleware.AccountMiddleware",
        "allauth.usersessions.middleware.UserSessionsMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
        }
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("ALLAUTH_DB", "allauth.sqlite3"),
        }
    },
    AUTHENTICATION_BACKENDS=["allauth.account.auth_backends.AuthenticationBackend"],
    ACCOUNT_LOGIN_METHODS={"email"},
    ACCOUNT_SIGNUP_FIELDS=["email*", "password1*"],
    ACCOUNT_EMAIL_VERIFICATION="none",
    # The tests sign in many times a minute; the limits are allauth's, not ours to test.
    ACCOUNT_RATE_LIMITS=False,
    HEADLESS_ONLY=True,
    HEADLESS_CLIENTS=("app",),
    HEADLESS_FRONTEND_URLS={
        "account_confirm_email": "http://127.0.0.1/confirm/{key}",
        "account_reset_password_from_key": "http://127.0.0.1/reset/{key}",
        "account_signup": "http://127.0.0.1/signup",
    },
    MFA_SUPPORTED_TYPES=["totp", "recovery_codes"],
    # Where a session was last seen: its address and agent follow every request.
    USERSESSIONS_TRACK_ACTIVITY=True,
    # The tests stand in for one proxy in front of the site: its X-Forwarded-For is the
    # client's address.
    ALLAUTH_TRUSTED_PROXY_COUNT=1,
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    LOGGING={"version": 1, "disable_existing_loggers": False},
)


def seed(email, password, totp_secret=None):
    """A user who signs in with EMAIL and PASSWORD (and an authenticator, with TOTP_SECRET)."""
    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=email.split("@")[0], email=email, password=password
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    if totp_secret:
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, totp_secret)
    print(user.pk)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "seed":
        seed(*sys.argv[2:5])
    else:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
