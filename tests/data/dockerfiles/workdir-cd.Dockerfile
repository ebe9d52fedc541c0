FROM debian:bookworm-slim
WORKDIR app
RUN cd /tmp && echo hi > x
WORKDIR /srv/app
WORKDIR ${HOME}/data
USER nobody
CMD ["ls"]
