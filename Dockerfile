# City Hall production image, used by docker-compose.yml for web, worker, beat and migrate.
# The default command serves the site with gunicorn; the same image runs Celery.

# --- Stage 1: front-end assets (USWDS, htmx) copied out of node_modules into static/vendor ------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY scripts/build_static.sh scripts/build_static.sh
RUN mkdir -p cityhall/data && bash scripts/build_static.sh

# --- Stage 2: the application --------------------------------------------------------------------
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=cityhall.settings.production

# gettext provides msgfmt for compilemessages; tzdata the time zones TIME_ZONE may name.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext tzdata \
    && rm -rf /var/lib/apt/lists/*

# The application runs as an unprivileged user; its home is writable (gunicorn puts its control
# socket there). /data holds the volumes (media, beat schedule): the directories exist in the
# image so that new named volumes start out owned by that user. The code stays root-owned.
RUN groupadd --gid 1000 cityhall \
    && useradd --uid 1000 --gid cityhall --create-home --shell /usr/sbin/nologin cityhall \
    && mkdir -p /data/media /data/beat \
    && chown -R cityhall:cityhall /data

WORKDIR /app

# Runtime dependencies only: not the dev extra, nor the embedded servers of `make run`.
COPY pyproject.toml README.md ./
RUN pip install . && rm -rf build *.egg-info

COPY . .
COPY --from=assets /build/static/vendor static/vendor
COPY --from=assets /build/cityhall/data/breached-passwords.txt cityhall/data/breached-passwords.txt

# Translations and static files are built into the image. Production settings refuse to load
# without these variables, so throwaway values are given to these two commands only; they are
# never stored in the image's environment.
RUN chmod 0755 scripts/docker-entrypoint.sh \
    && export SECRET_KEY=build-time-only-not-a-secret-never-used-at-runtime-012345678 \
              SMTP_URL=smtp://localhost:25 \
              PAYMENT_PROVIDER=stripe STRIPE_SECRET_KEY=build STRIPE_WEBHOOK_SECRET=build \
              DATABASE_URL=postgres://build@localhost/build \
              REDIS_URL=redis://localhost:6379/0 \
    && python manage.py compilemessages -v 0 \
    && python manage.py collectstatic --noinput -v 0 \
    && python -m compileall -q /app

USER cityhall
EXPOSE 8000

# The entrypoint sets WEB_CONCURRENCY (3 gunicorn workers per CPU core) unless it is set.
ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
CMD ["gunicorn", "cityhall.wsgi", "--config", "python:cityhall.gunicorn_conf", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--worker-tmp-dir", "/dev/shm"]
