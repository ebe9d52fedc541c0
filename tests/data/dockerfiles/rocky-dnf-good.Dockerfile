FROM rockylinux:9.3
RUN dnf upgrade -y \
 && dnf install -y nginx \
 && dnf clean all \
 && rm -rf /var/cache/dnf
USER nginx
EXPOSE 8080
HEALTHCHECK CMD ["curl", "-fsS", "http://127.0.0.1:8080/"]
CMD ["nginx", "-g", "daemon off;"]
