FROM centos:7
RUN yum install httpd mod_ssl
RUN yum -y install php && yum clean all
EXPOSE 80
CMD ["/usr/sbin/httpd", "-D", "FOREGROUND"]
