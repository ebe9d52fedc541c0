-- Run once by docker-entrypoint.sh when it initialises a cluster.
CREATE TABLE pare_smoke (id integer PRIMARY KEY, note text NOT NULL);
INSERT INTO pare_smoke VALUES (1, 'made by docker-entrypoint-initdb.d');
