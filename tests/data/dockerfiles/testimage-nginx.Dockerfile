# pare-test/nginx: Debian's nginx serving a static site on port 8080.
# It runs fully as www-data (no root master process): pid file and temp
# paths live in /tmp, logs go to stdout/stderr (see nginx.conf).
ARG BASE
FROM $BASE
RUN --mount=type=bind,source=_host,target=/mnt \
    /mnt/apt-install nginx \
 && rm -f /etc/nginx/sites-enabled/default
COPY nginx.conf /etc/nginx/nginx.conf
COPY site/ /srv/www/
USER www-data
EXPOSE 8080
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/usr/sbin/nginx", "-e", "stderr", "-c", "/etc/nginx/nginx.conf", "-g", "daemon off;"]
