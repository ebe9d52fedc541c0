FROM ubuntu:22.04
RUN apt-get update && apt-get install -y --no-install-recommends openssh-server && rm -rf /var/lib/apt/lists/*
RUN mkdir /var/run/sshd && echo 'root:root' | chpasswd
EXPOSE 22
CMD ["/usr/sbin/sshd", "-D"]
