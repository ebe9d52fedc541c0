FROM fedora:40
RUN dnf install -y gcc make && dnf clean all
RUN dnf install python3-pip
RUN microdnf install nodejs
USER 1001
CMD ["python3"]
