//! The directories an app server is configured to serve files from: nginx's `root`
//! and `alias`, Apache's `DocumentRoot`, php-fpm's `chdir`. Every file there is
//! something a client may ask for, so none of it is the trace's to judge.

use std::collections::BTreeSet;

use pare_image::{EntryKind, FileIndex};

/// The configuration files read for served directories (their bytes are loaded in
/// the first read).
pub fn is_config(path: &str, size: u64) -> bool {
    size < 256 * 1024
        && (path.starts_with("/etc/nginx/")
            || path.starts_with("/etc/apache2/")
            || path.starts_with("/etc/httpd/")
            || (path.starts_with("/etc/php/") && path.contains("fpm"))
            || path.starts_with("/usr/local/etc/php-fpm")
            || path.starts_with("/usr/local/etc/nginx/"))
}

/// Served directories that exist in the image.
pub fn directories(index: &FileIndex) -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for (path, node) in &index.nodes {
        if node.kind != EntryKind::File || !is_config(path, node.size) {
            continue;
        }
        let Some(bytes) = node.content.as_deref() else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        // nginx puts several statements on a line (`location /i/ { alias /d/; }`).
        let statements = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or(""))
            .flat_map(|l| l.split(['{', '}', ';']))
            .map(str::trim);
        for line in statements {
            let mut words = line.split(|c: char| c.is_whitespace() || c == '=');
            let key = words.next().unwrap_or("");
            let value = words
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .trim_end_matches(';')
                .trim_matches('"');
            let wanted = matches!(key, "root" | "alias" | "DocumentRoot" | "chdir");
            if wanted && value.starts_with('/') && !value.contains('$') {
                let dir = value.trim_end_matches('/');
                if index
                    .resolve(dir)
                    .is_some_and(|(_, n)| n.kind == EntryKind::Dir)
                    && dir != "/"
                    && !dir.is_empty()
                {
                    dirs.insert(dir.to_owned());
                }
            }
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use pare_image::layer::{Expected, ReadOptions, read_layer};
    use pare_image::testutil::{TarItem, tar_of};
    use std::sync::Arc;

    #[test]
    fn finds_nginx_roots_and_fpm_chdir() {
        let options = ReadOptions {
            keep_content: Some(Arc::new(|_: &str, _: u64| true)),
            ..Default::default()
        };
        let tar = tar_of(&[
            TarItem::dir("etc/"),
            TarItem::dir("etc/nginx/"),
            TarItem::file(
                "etc/nginx/nginx.conf",
                b"server {\n  root /srv/www;\n  location /img/ { alias /data/img/; }\n  # root /commented;\n  root $document_root;\n}\n",
                0o644,
            ),
            TarItem::dir("srv/"),
            TarItem::dir("srv/www/"),
            TarItem::dir("data/"),
            TarItem::dir("data/img/"),
        ]);
        let index = pare_image::FileIndex::build([read_layer(
            &tar[..],
            "t",
            &Expected::default(),
            &options,
        )
        .unwrap()]);
        let dirs: Vec<String> = super::directories(&index).into_iter().collect();
        assert_eq!(dirs, ["/data/img", "/srv/www"]);
    }
}
