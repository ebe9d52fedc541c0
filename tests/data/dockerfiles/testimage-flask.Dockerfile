# pare-test/flask: Flask REST API on gunicorn, port 8080, as user nobody.
# Layers: apt (python3), pip (venv at /opt/venv), app.
ARG BASE
FROM $BASE

# python3 from Debian; byte-compile the stdlib so its __pycache__ is in the
# image (e.g. /usr/lib/python3.11/__pycache__/mailcap.cpython-311.pyc).
RUN --mount=type=bind,source=_host,target=/mnt \
    /mnt/apt-install python3 python3-venv \
 && python3 -m compileall -q -j 0 /usr/lib/python3.11 >/dev/null \
 && test -f /usr/lib/python3.11/mailcap.py \
 && test -f /usr/lib/python3.11/__pycache__/mailcap.cpython-311.pyc

COPY requirements.txt /opt/requirements.txt
RUN --mount=type=bind,source=_host,target=/mnt \
    . /mnt/env.sh \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir -r /opt/requirements.txt \
 && /opt/venv/bin/python -c 'import flask, gunicorn, requests, yaml'

WORKDIR /app
COPY app.py /app/app.py
USER nobody
EXPOSE 8080
ENTRYPOINT ["/opt/venv/bin/gunicorn", "--bind", "0.0.0.0:8080", "--workers", "2", "--access-logfile", "-", "app:app"]
