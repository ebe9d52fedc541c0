FROM debian:bookworm-slim
ENV APP_HOME=/opt/app APP_BIN=$APP_HOME/bin
ENV PATH=/opt/app/bin:$PATH
ENV A=1 \
    B=2 \
    C=${A}${B}
USER nobody
CMD ["env"]
