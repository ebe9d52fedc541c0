#!/bin/sh
# pare-test/entrypoint: docker-library style entrypoint. Writes the app's
# config file from the environment, then execs the command (CMD: the
# Python server). Arguments that start with '-' are passed to app.py.
set -eu

: "${APP_NAME:=pare-test/entrypoint}"
: "${APP_GREETING:=hello}"
: "${APP_PORT:=8082}"
: "${APP_CONFIG:=/app/config/app.conf}"
export APP_CONFIG APP_PORT

mkdir -p "$(dirname "$APP_CONFIG")"
umask 022
tmp="$APP_CONFIG.tmp.$$"
{
  echo "# written by docker-entrypoint.sh"
  echo "name=$APP_NAME"
  echo "greeting=$APP_GREETING"
  echo "port=$APP_PORT"
  echo "user=$(id -un)"
  echo "written_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$tmp"
mv "$tmp" "$APP_CONFIG"

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- python3 /app/app.py "$@"
fi
exec "$@"
