#!/bin/sh
# Start PHP-FPM in the background, wait for its socket, then hand the
# container to nginx.
set -e
php-fpm8.2 --nodaemonize --fpm-config /etc/php/8.2/fpm/php-fpm.conf &
i=0
while [ ! -S /tmp/php-fpm.sock ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
        echo "php-fpm did not start" >&2
        exit 1
    fi
    sleep 0.1
done
exec nginx -e stderr -c /etc/nginx/nginx.conf -g 'daemon off;'
