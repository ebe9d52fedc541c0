# syntax=docker/dockerfile:1
FROM debian:bookworm-slim
RUN <<EOF
apt-get update
apt-get install -y curl
rm -rf /var/lib/apt/lists/*
EOF
COPY <<EOF /etc/app.conf
listen = 8080
# not an instruction:
FROM scratch
EOF
RUN <<-SCRIPT bash
	set -eu
	echo $HOME
SCRIPT
RUN python3 <<PY
print("hello")
PY
USER nobody
EXPOSE 8080
CMD ["sleep", "infinity"]
