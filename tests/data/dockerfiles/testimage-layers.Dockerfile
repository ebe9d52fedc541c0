# pare-test/layers: a deliberately wasteful image whose every figure has a
# known true value; see EXPECTED.md (keep the two in step).
# Built with the classic builder (BUILDER file): its layers carry exactly
# what each step creates and no host config is used.
ARG BASE
FROM $BASE
# L1: /data/config.txt, first version (21 bytes)
COPY config-v1.txt /data/config.txt
# L2: 20 MiB of random bytes, deleted again in L8
RUN head -c 20971520 /dev/urandom > /big.bin
# L3: a directory with two files, replaced by L10
RUN mkdir /opq && echo a > /opq/a && echo b > /opq/b
# L4: two identical 1 MiB files at different paths
COPY _gen/dup/ /dup/
# L5: setuid-root and setgid-root copies of /bin/true
RUN cp /bin/true /usr/local/bin/suidtool && chmod 4755 /usr/local/bin/suidtool \
 && cp /bin/true /usr/local/bin/sgidtool && chmod 2755 /usr/local/bin/sgidtool
# L6: a world-writable directory (no sticky bit) and a world-writable file
RUN mkdir /shared && chmod 0777 /shared \
 && echo 'anyone may write here' > /shared/world.txt && chmod 0666 /shared/world.txt
# L7: /data/config.txt again, second version (63 bytes)
COPY config-v2.txt /data/config.txt
# L8: delete the 20 MiB file
RUN rm /big.bin
# L9: replace /opq wholesale
RUN rm -rf /opq && mkdir /opq && echo c > /opq/c
CMD ["/bin/ls", "-lnR", "/data", "/dup", "/opq", "/shared", "/usr/local/bin"]
