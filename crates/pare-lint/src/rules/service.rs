//! Recognising a service: a final command that starts a server.

use crate::instruction::CommandForm;

/// Programs that listen on a port when started.
const SERVERS: [&str; 24] = [
    "gunicorn",
    "uvicorn",
    "hypercorn",
    "daphne",
    "waitress-serve",
    "nginx",
    "httpd",
    "apache2-foreground",
    "apache2ctl",
    "caddy",
    "puma",
    "unicorn",
    "php-fpm",
    "redis-server",
    "postgres",
    "mysqld",
    "mongod",
    "haproxy",
    "traefik",
    "envoy",
    "memcached",
    "sshd",
    "http-server",
    "serve",
];

/// True when the command starts a server we recognise.
pub fn starts_server(form: &CommandForm) -> bool {
    let words: Vec<String> = match form {
        CommandForm::Exec(w) => w.clone(),
        CommandForm::Shell { text, .. } => text.split_whitespace().map(str::to_owned).collect(),
    };
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_owned();
    let names: Vec<String> = words.iter().map(|w| base(w)).collect();
    let has = |w: &str| names.iter().any(|n| n == w);
    names.iter().any(|n| SERVERS.contains(&n.as_str()))
        || (has("manage.py") && has("runserver"))
        || (has("flask") && has("run"))
        || (has("rails") && (has("server") || has("s")))
        || has("http.server")
}
