use std::collections::BTreeSet;
use std::sync::Arc;

use pare_image::FileIndex;
use pare_image::layer::{Expected, ReadOptions, read_layer};
use pare_image::testutil::{TarItem, tar_of};

use super::*;

fn index(items: &[TarItem]) -> FileIndex {
    let options = ReadOptions {
        keep_content: Some(Arc::new(|_: &str, _: u64| true)),
        ..Default::default()
    };
    FileIndex::build([read_layer(&tar_of(items)[..], "t", &Expected::default(), &options).unwrap()])
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| (*p).to_owned()).collect()
}

/// A stdlib with a lazily imported codec, a venv package importing a sibling
/// inside a function, and an extension module.
fn python_image() -> FileIndex {
    index(&[
        TarItem::dir("usr/"),
        TarItem::dir("usr/lib/"),
        TarItem::dir("usr/lib/python3.11/"),
        TarItem::file(
            "usr/lib/python3.11/os.py",
            b"import posixpath, shutil\n",
            0o644,
        ),
        TarItem::file("usr/lib/python3.11/posixpath.py", b"x = 1\n", 0o644),
        TarItem::file("usr/lib/python3.11/shutil.py", b"import fnmatch\n", 0o644),
        TarItem::file("usr/lib/python3.11/fnmatch.py", b"x = 1\n", 0o644),
        TarItem::file("usr/lib/python3.11/unused.py", b"x = 1\n", 0o644),
        TarItem::file(
            "usr/lib/python3.11/logging.py",
            b"def f():\n    import encodings.unicode_escape\n",
            0o644,
        ),
        TarItem::dir("usr/lib/python3.11/encodings/"),
        TarItem::file(
            "usr/lib/python3.11/encodings/__init__.py",
            b"import codecs\n",
            0o644,
        ),
        TarItem::file(
            "usr/lib/python3.11/encodings/utf_8.py",
            b"import codecs\n",
            0o644,
        ),
        TarItem::file(
            "usr/lib/python3.11/encodings/unicode_escape.py",
            b"import codecs\n",
            0o644,
        ),
        TarItem::file(
            "usr/lib/python3.11/encodings/latin_1.py",
            b"import codecs\n",
            0o644,
        ),
        TarItem::file("usr/lib/python3.11/codecs.py", b"x = 1\n", 0o644),
        TarItem::dir("usr/lib/python3.11/lib-dynload/"),
        TarItem::file(
            "usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
            b"\x7fELF",
            0o644,
        ),
        TarItem::file("usr/lib/python3.11/json.py", b"import _json\n", 0o644),
        TarItem::dir("venv/"),
        TarItem::dir("venv/site-packages/"),
        TarItem::dir("venv/site-packages/fw/"),
        TarItem::file(
            "venv/site-packages/fw/__init__.py",
            b"from .app import App\n",
            0o644,
        ),
        TarItem::file(
            "venv/site-packages/fw/app.py",
            b"import os\ndef error(e):\n    from . import errors\n    import logging\n",
            0o644,
        ),
        TarItem::file("venv/site-packages/fw/errors.py", b"import json\n", 0o644),
        TarItem::dir("venv/site-packages/fw/templates/"),
        TarItem::file("venv/site-packages/fw/templates/500.html", b"<h1>", 0o644),
        TarItem::dir("app/"),
        TarItem::file(
            "app/main.py",
            b"import fw\ndef view():\n    import logging\n",
            0o644,
        ),
    ])
}

#[test]
fn python_imports_are_followed_into_functions_packages_and_extensions() {
    let idx = python_image();
    let layout = AppLayout {
        app_dirs: vec!["/app".into()],
        ..Default::default()
    };
    let kept = set(&[
        "/app/main.py",
        "/venv/site-packages/fw/__init__.py",
        "/venv/site-packages/fw/app.py",
        "/usr/lib/python3.11/encodings/utf_8.py",
    ]);
    let reached = reachable(&idx, &layout, &kept);
    let expected = [
        // A package's own lazy module, imported inside a function that ran.
        ("/venv/site-packages/fw/errors.py", Reason::Imported),
        // What that module imports when it is imported.
        ("/usr/lib/python3.11/json.py", Reason::Imported),
        (
            "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
            Reason::Imported,
        ),
        // The app's own function-level import.
        ("/usr/lib/python3.11/logging.py", Reason::Imported),
        // fw/app.py imports os at module level, os imports shutil, shutil fnmatch
        // (and posixpath, frozen into CPython 3.11: not kept).
        ("/usr/lib/python3.11/shutil.py", Reason::Imported),
        ("/usr/lib/python3.11/fnmatch.py", Reason::Imported),
        // Python's codecs, and a kept package's templates, as sets.
        (
            "/usr/lib/python3.11/encodings/unicode_escape.py",
            Reason::ResourceSet,
        ),
        (
            "/usr/lib/python3.11/encodings/latin_1.py",
            Reason::ResourceSet,
        ),
        (
            "/venv/site-packages/fw/templates/500.html",
            Reason::ResourceSet,
        ),
    ];
    for (path, reason) in expected {
        assert_eq!(reached.get(path), Some(&reason), "{path}: {reached:#?}");
    }
    assert!(!reached.contains_key("/usr/lib/python3.11/unused.py"));
    assert!(!reached.contains_key("/usr/lib/python3.11/posixpath.py"));
    assert!(!reached.contains_key("/app/main.py"), "kept already");
}

#[test]
fn copy_layers_are_the_apps_files() {
    let history = [
        pare_image::config::History {
            created_by: Some("debootstrap --variant=minbase bookworm".into()),
            ..Default::default()
        },
        pare_image::config::History {
            created_by: Some("COPY site/ /srv/www/ # buildkit".into()),
            ..Default::default()
        },
        pare_image::config::History {
            created_by: Some("/bin/sh -c #(nop) ADD file:0a1b in /opt/app ".into()),
            ..Default::default()
        },
        pare_image::config::History {
            created_by: Some("RUN /bin/sh -c cp /a /COPY # buildkit".into()),
            ..Default::default()
        },
    ];
    let refs: Vec<Option<&pare_image::config::History>> = history.iter().map(Some).collect();
    assert_eq!(copy_layers(&refs), [1, 2].into());
}

/// A base image that is one copied rootfs (`ADD file:… in /`, `COPY / /`): its
/// packages' files and the package manager's state are the system's, not the app's;
/// what no package owns in that layer still is.
#[test]
fn a_copied_rootfs_is_the_system_not_the_app() {
    let idx = index(&[
        TarItem::dir("usr/"),
        TarItem::dir("usr/bin/"),
        TarItem::file("usr/bin/bash", b"\x7fELF", 0o755),
        TarItem::dir("var/"),
        TarItem::dir("var/lib/"),
        TarItem::dir("var/lib/dpkg/"),
        TarItem::file("var/lib/dpkg/status", b"Package: bash\n", 0o644),
        TarItem::dir("srv/"),
        TarItem::file("srv/site.conf", b"listen 80", 0o644),
    ]);
    let layout = AppLayout {
        copy_layers: [0].into(),
        system_files: set(&["/usr/bin/bash"]),
        ..AppLayout::default()
    };
    let reached = reachable(&idx, &layout, &BTreeSet::new());
    assert_eq!(reached.get("/srv/site.conf"), Some(&Reason::AppFile));
    assert!(!reached.contains_key("/usr/bin/bash"), "{reached:#?}");
    assert!(
        !reached.contains_key("/var/lib/dpkg/status"),
        "{reached:#?}"
    );
    // Without the packages' files known, the whole layer would be the app's.
    let everything = AppLayout {
        copy_layers: [0].into(),
        ..AppLayout::default()
    };
    let reached = reachable(&idx, &everything, &BTreeSet::new());
    assert_eq!(reached.get("/usr/bin/bash"), Some(&Reason::AppFile));
}

#[test]
fn a_dlopened_plugin_keeps_its_directory_and_a_zone_read_keeps_the_database() {
    let idx = index(&[
        TarItem::dir("usr/"),
        TarItem::dir("usr/lib/"),
        TarItem::dir("usr/lib/im/"),
        TarItem::dir("usr/lib/im/coders/"),
        TarItem::file("usr/lib/im/coders/png.so", b"\x7fELF", 0o644),
        TarItem::file("usr/lib/im/coders/png.la", b"la", 0o644),
        TarItem::file("usr/lib/im/coders/jpeg.so", b"\x7fELF", 0o644),
        TarItem::file("usr/lib/libz.so.1", b"\x7fELF", 0o644),
        TarItem::file("usr/lib/libpng.so.1", b"\x7fELF", 0o644),
        TarItem::dir("usr/share/"),
        TarItem::dir("usr/share/zoneinfo/"),
        TarItem::dir("usr/share/zoneinfo/Europe/"),
        TarItem::file("usr/share/zoneinfo/UTC", b"TZif", 0o644),
        TarItem::file("usr/share/zoneinfo/Europe/Paris", b"TZif", 0o644),
    ]);
    let kept = set(&[
        "/usr/lib/im/coders/png.so",
        "/usr/lib/libz.so.1",
        "/usr/share/zoneinfo/UTC",
    ]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    assert_eq!(
        reached.get("/usr/lib/im/coders/jpeg.so"),
        Some(&Reason::ResourceSet)
    );
    assert_eq!(
        reached.get("/usr/lib/im/coders/png.la"),
        Some(&Reason::ResourceSet)
    );
    assert_eq!(
        reached.get("/usr/share/zoneinfo/Europe/Paris"),
        Some(&Reason::ResourceSet)
    );
    assert!(
        !reached.contains_key("/usr/lib/libpng.so.1"),
        "a library dir is no plugin set"
    );
}

#[test]
fn node_requires_resolve_relative_files_packages_and_global_folders() {
    let idx = index(&[
        TarItem::dir("app/"),
        TarItem::file(
            "app/server.js",
            b"const e = require('express');\napp.get('/r', () => require('./lib/render'));\n",
            0o644,
        ),
        TarItem::dir("app/lib/"),
        TarItem::file(
            "app/lib/render.js",
            b"const m = require('marked');\n",
            0o644,
        ),
        TarItem::dir("app/node_modules/"),
        TarItem::dir("app/node_modules/express/"),
        TarItem::file(
            "app/node_modules/express/package.json",
            b"{\"main\": \"lib/express\"}",
            0o644,
        ),
        TarItem::dir("app/node_modules/express/lib/"),
        TarItem::file(
            "app/node_modules/express/lib/express.js",
            b"module.exports = 1;\n",
            0o644,
        ),
        TarItem::dir("usr/"),
        TarItem::dir("usr/share/"),
        TarItem::dir("usr/share/nodejs/"),
        TarItem::dir("usr/share/nodejs/marked/"),
        TarItem::file(
            "usr/share/nodejs/marked/package.json",
            b"{\"exports\": {\".\": {\"require\": \"./lib/marked.cjs\"}}}",
            0o644,
        ),
        TarItem::dir("usr/share/nodejs/marked/lib/"),
        TarItem::file("usr/share/nodejs/marked/lib/marked.cjs", b"x\n", 0o644),
    ]);
    let kept = set(&["/app/server.js", "/app/node_modules/express/lib/express.js"]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    for path in [
        "/app/lib/render.js",
        "/usr/share/nodejs/marked/package.json",
        "/usr/share/nodejs/marked/lib/marked.cjs",
        "/app/node_modules/express/package.json",
    ] {
        assert_eq!(
            reached.get(path),
            Some(&Reason::Imported),
            "{path}: {reached:#?}"
        );
    }
}

#[test]
fn ruby_requires_resolve_against_gem_libs() {
    let idx = index(&[
        TarItem::dir("app/"),
        TarItem::file(
            "app/app.rb",
            b"require 'rack'\nrequire_relative 'helpers'\n",
            0o644,
        ),
        TarItem::file("app/helpers.rb", b"x = 1\n", 0o644),
        TarItem::dir("gems/"),
        TarItem::dir("gems/gems/"),
        TarItem::dir("gems/gems/rack-3.0/"),
        TarItem::dir("gems/gems/rack-3.0/lib/"),
        TarItem::file(
            "gems/gems/rack-3.0/lib/rack.rb",
            b"autoload :Multipart, 'rack/multipart'\n",
            0o644,
        ),
        TarItem::dir("gems/gems/rack-3.0/lib/rack/"),
        TarItem::file(
            "gems/gems/rack-3.0/lib/rack/multipart.rb",
            b"require 'rack/multipart/parser'\n",
            0o644,
        ),
        TarItem::dir("gems/gems/rack-3.0/lib/rack/multipart/"),
        TarItem::file(
            "gems/gems/rack-3.0/lib/rack/multipart/parser.rb",
            b"x\n",
            0o644,
        ),
    ]);
    let kept = set(&["/app/app.rb"]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    for path in [
        "/app/helpers.rb",
        "/gems/gems/rack-3.0/lib/rack.rb",
        "/gems/gems/rack-3.0/lib/rack/multipart.rb",
        "/gems/gems/rack-3.0/lib/rack/multipart/parser.rb",
    ] {
        assert_eq!(
            reached.get(path),
            Some(&Reason::Imported),
            "{path}: {reached:#?}"
        );
    }
}

/// ImageMagick looks up each configuration file by name in several directories and
/// reads `colors.xml`, `type.xml` or its message catalogue only when a named colour,
/// some text or an error needs them; text drawn needs fontconfig's files and fonts.
#[test]
fn a_searched_configuration_directory_and_fontconfigs_files_are_kept() {
    let idx = index(&[
        TarItem::dir("etc/"),
        TarItem::file("etc/hosts.conf", b"x", 0o644),
        TarItem::file("etc/other.conf", b"x", 0o644),
        TarItem::dir("etc/im/"),
        TarItem::file("etc/im/policy.xml", b"<p/>", 0o644),
        TarItem::file("etc/im/log.xml", b"<l/>", 0o644),
        TarItem::file("etc/im/colors.xml", b"<c/>", 0o644),
        TarItem::dir("etc/im/deeper/"),
        TarItem::file("etc/im/deeper/x.xml", b"<x/>", 0o644),
        TarItem::dir("usr/"),
        TarItem::dir("usr/share/"),
        TarItem::dir("usr/share/im/"),
        TarItem::file("usr/share/im/english.xml", b"<e/>", 0o644),
        TarItem::dir("usr/share/lone/"),
        TarItem::file("usr/share/lone/a.json", b"{}", 0o644),
        TarItem::file("usr/share/lone/b.json", b"{}", 0o644),
        TarItem::dir("usr/lib/"),
        TarItem::file("usr/lib/libfontconfig.so.1", b"\x7fELF", 0o644),
        TarItem::dir("etc/fonts/"),
        TarItem::file("etc/fonts/fonts.conf", b"<f/>", 0o644),
        TarItem::dir("usr/share/fonts/"),
        TarItem::file("usr/share/fonts/Sans.ttf", b"ttf", 0o644),
    ]);
    let kept = set(&[
        "/etc/im/policy.xml",
        "/etc/im/log.xml",
        "/etc/hosts.conf",
        "/usr/share/lone/a.json",
    ]);
    // Found in /etc/im; looked for in vain in /usr/share/im, as in a search path.
    let layout = AppLayout {
        looked_up: set(&[
            "/etc/im/policy.xml",
            "/etc/im/log.xml",
            "/usr/share/im/policy.xml",
            "/usr/share/im/log.xml",
            "/etc/hosts.conf",
            "/etc/resolv.conf",
            "/usr/share/lone/a.json",
        ]),
        ..AppLayout::default()
    };
    let reached = reachable(&idx, &layout, &kept);
    for path in ["/etc/im/colors.xml", "/usr/share/im/english.xml"] {
        assert_eq!(reached.get(path), Some(&Reason::ResourceSet), "{path}");
    }
    // Not its subdirectories, nor a directory many programs share, nor a directory
    // where one name was looked up.
    for path in [
        "/etc/im/deeper/x.xml",
        "/etc/other.conf",
        "/usr/share/lone/b.json",
    ] {
        assert!(!reached.contains_key(path), "{path}: {reached:#?}");
    }
    // Without fontconfig loaded, no fonts; with it, its configuration and fonts.
    assert!(!reached.contains_key("/usr/share/fonts/Sans.ttf"));
    let mut with_fc = kept.clone();
    with_fc.insert("/usr/lib/libfontconfig.so.1".into());
    let reached = reachable(&idx, &layout, &with_fc);
    for path in ["/etc/fonts/fonts.conf", "/usr/share/fonts/Sans.ttf"] {
        assert_eq!(reached.get(path), Some(&Reason::ResourceSet), "{path}");
    }
}

/// A Django-like package: message catalogues per language, commands loaded by name
/// (whose own imports are followed), and backends named in a settings string.
#[test]
fn a_kept_packages_catalogues_commands_and_named_backends_are_kept() {
    let dist = "usr/lib/python3/dist-packages";
    let idx = index(&[
        TarItem::dir("usr/"),
        TarItem::dir("usr/lib/"),
        TarItem::dir("usr/lib/python3/"),
        TarItem::dir(&format!("{dist}/")),
        TarItem::dir(&format!("{dist}/fw/")),
        TarItem::file(&format!("{dist}/fw/__init__.py"), b"x = 1\n", 0o644),
        TarItem::dir(&format!("{dist}/fw/migrations/")),
        TarItem::file(&format!("{dist}/fw/migrations/0001_initial.py"), b"", 0o644),
        TarItem::dir(&format!("{dist}/fw/conf/")),
        TarItem::file(
            &format!("{dist}/fw/conf/__init__.py"),
            b"CACHE = 'fw.cache.locmem.LocMem'\nDOC = 'other.pkg.mod'\n",
            0o644,
        ),
        TarItem::dir(&format!("{dist}/fw/cache/")),
        TarItem::file(&format!("{dist}/fw/cache/__init__.py"), b"", 0o644),
        TarItem::file(&format!("{dist}/fw/cache/locmem.py"), b"x = 1\n", 0o644),
        TarItem::dir(&format!("{dist}/fw/conf/locale/")),
        TarItem::dir(&format!("{dist}/fw/conf/locale/fr/")),
        TarItem::file(&format!("{dist}/fw/conf/locale/fr/formats.py"), b"", 0o644),
        TarItem::dir(&format!("{dist}/fw/conf/locale/fr/LC_MESSAGES/")),
        TarItem::file(
            &format!("{dist}/fw/conf/locale/fr/LC_MESSAGES/fw.mo"),
            b"mo",
            0o644,
        ),
        TarItem::file(
            &format!("{dist}/fw/conf/locale/fr/LC_MESSAGES/fw.po"),
            b"po",
            0o644,
        ),
        TarItem::dir(&format!("{dist}/fw/management/")),
        TarItem::file(&format!("{dist}/fw/management/__init__.py"), b"", 0o644),
        TarItem::file(&format!("{dist}/fw/management/utils.py"), b"", 0o644),
        TarItem::dir(&format!("{dist}/fw/management/commands/")),
        TarItem::file(
            &format!("{dist}/fw/management/commands/dump.py"),
            b"from fw.management.utils import parse\n",
            0o644,
        ),
        TarItem::dir(&format!("{dist}/other/")),
        TarItem::dir(&format!("{dist}/other/pkg/")),
        TarItem::file(&format!("{dist}/other/pkg/mod.py"), b"", 0o644),
    ]);
    let kept = set(&[
        &format!("/{dist}/fw/__init__.py"),
        &format!("/{dist}/fw/conf/__init__.py"),
        &format!("/{dist}/fw/management/__init__.py"),
    ]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    for (path, reason) in [
        ("fw/conf/locale/fr/LC_MESSAGES/fw.mo", Reason::ResourceSet),
        ("fw/conf/locale/fr/formats.py", Reason::ResourceSet),
        ("fw/management/commands/dump.py", Reason::ResourceSet),
        ("fw/migrations/0001_initial.py", Reason::ResourceSet),
        ("fw/management/utils.py", Reason::Imported),
        ("fw/cache/locmem.py", Reason::Imported),
    ] {
        let path = format!("/{dist}/{path}");
        assert_eq!(reached.get(&path), Some(&reason), "{path}: {reached:#?}");
    }
    // A catalogue's source is never read; another package named in a string is
    // no plugin of this one.
    for path in ["fw/conf/locale/fr/LC_MESSAGES/fw.po", "other/pkg/mod.py"] {
        let path = format!("/{dist}/{path}");
        assert!(!reached.contains_key(&path), "{path}: {reached:#?}");
    }
}

#[test]
fn rubys_encodings_are_kept_when_its_encoding_database_was_loaded() {
    let enc = "usr/lib/x86_64-linux-gnu/ruby/3.1.0/enc";
    let idx = index(&[
        TarItem::dir("usr/"),
        TarItem::dir("usr/lib/"),
        TarItem::dir("usr/lib/x86_64-linux-gnu/"),
        TarItem::dir("usr/lib/x86_64-linux-gnu/ruby/"),
        TarItem::dir("usr/lib/x86_64-linux-gnu/ruby/3.1.0/"),
        TarItem::dir(&format!("{enc}/")),
        TarItem::file(&format!("{enc}/encdb.so"), b"\x7fELF", 0o644),
        TarItem::file(&format!("{enc}/shift_jis.so"), b"\x7fELF", 0o644),
        TarItem::dir(&format!("{enc}/trans/")),
        TarItem::file(&format!("{enc}/trans/transdb.so"), b"\x7fELF", 0o644),
        TarItem::file(&format!("{enc}/trans/japanese_sjis.so"), b"\x7fELF", 0o644),
    ]);
    let kept = set(&[
        &format!("/{enc}/encdb.so"),
        &format!("/{enc}/trans/transdb.so"),
    ]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    for path in ["shift_jis.so", "trans/japanese_sjis.so"] {
        let path = format!("/{enc}/{path}");
        assert_eq!(reached.get(&path), Some(&Reason::ResourceSet), "{path}");
    }
}

#[test]
fn datetime_keeps_the_strptime_its_c_code_imports() {
    let idx = index(&[
        TarItem::dir("usr/"),
        TarItem::dir("usr/lib/"),
        TarItem::dir("usr/lib/python3.11/"),
        TarItem::file("usr/lib/python3.11/os.py", b"x = 1\n", 0o644),
        TarItem::file("usr/lib/python3.11/datetime.py", b"import time\n", 0o644),
        TarItem::file(
            "usr/lib/python3.11/_strptime.py",
            b"import calendar\n",
            0o644,
        ),
        TarItem::file("usr/lib/python3.11/calendar.py", b"x = 1\n", 0o644),
    ]);
    let kept = set(&["/usr/lib/python3.11/datetime.py"]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    for path in [
        "/usr/lib/python3.11/_strptime.py",
        "/usr/lib/python3.11/calendar.py",
    ] {
        assert_eq!(reached.get(path), Some(&Reason::Imported), "{path}");
    }
}

#[test]
fn imports_that_never_run_are_not_followed() {
    let files: [(&str, &[u8]); 24] = [
        ("usr/lib/python3.11/os.py", b"x = 1\n"),
        // A stdlib module's main block runs only when it is the program.
        ("usr/lib/python3.11/heapq.py", b"import itertools\nif __name__ == \"__main__\":\n    import doctest\n"),
        ("usr/lib/python3.11/itertools.py", b"x = 1\n"),
        ("usr/lib/python3.11/doctest.py", b"import pdb\n"),
        ("usr/lib/python3.11/pdb.py", b"x = 1\n"),
        // The accelerator exists for this Python: the fallback never runs.
        ("usr/lib/python3.11/decimal.py", b"try:\n    from _decimal import *\n    HAVE_C = True\nexcept ImportError:\n    from _pydecimal import *\n"),
        // A name may be an attribute the accelerator lacks: the fallback may run.
        ("usr/lib/python3.11/numbers.py", b"try:\n    from _decimal import __version__\nexcept ImportError:\n    from _pyversion import __version__\n"),
        ("usr/lib/python3.11/_pyversion.py", b"x = 1\n"),
        ("usr/lib/python3.11/lib-dynload/_decimal.cpython-311-x86_64-linux-gnu.so", b"\x7fELF"),
        ("usr/lib/python3.11/_pydecimal.py", b"x = 1\n"),
        // Built for another Python: it fails to import, the fallback runs.
        ("usr/lib/python3.11/fast.py", b"try:\n    from _fast import f\nexcept ImportError:\n    from _slow import f\n"),
        ("usr/lib/python3.11/lib-dynload/_fast.cpython-310-x86_64-linux-gnu.so", b"\x7fELF"),
        ("usr/lib/python3.11/_slow.py", b"x = 1\n"),
        // Other code in the `try` may raise ImportError itself.
        ("usr/lib/python3.11/guarded.py", b"try:\n    import itertools\n    itertools.setup()\nexcept ImportError:\n    import _guard_fallback\n"),
        ("usr/lib/python3.11/_guard_fallback.py", b"x = 1\n"),
        // A builtin (no file) falls back to a file that is kept.
        ("usr/lib/python3.11/boot.py", b"try:\n    import _frozen_boot as b\nexcept ImportError:\n    import _boot as b\n"),
        ("usr/lib/python3.11/_boot.py", b"x = 1\n"),
        // Windows-only, and for annotations only.
        ("usr/lib/python3.11/term.py", b"import sys\nif sys.platform == 'win32':\n    import ctypes\nif TYPE_CHECKING:\n    import _typeshed\n"),
        ("usr/lib/python3.11/ctypes.py", b"x = 1\n"),
        ("usr/lib/python3.11/_typeshed.py", b"x = 1\n"),
        // Frozen into CPython 3.11: its source is not kept, what it imports is.
        ("usr/lib/python3.11/importlib/util.py", b"from ._abc import Loader\n"),
        ("usr/lib/python3.11/importlib/_abc.py", b"x = 1\n"),
        // Not frozen in 3.10.
        ("usr/lib/python3.10/runpy.py", b"x = 1\n"),
        // The app's own script runs as the program: its main block is followed.
        ("app/main.py", b"import heapq, decimal, numbers, fast, guarded, boot, term, importlib.util\nif __name__ == '__main__':\n    import pdb\nimport runpy\n"),
    ];
    let mut items = Vec::new();
    for dir in [
        "usr/",
        "usr/lib/",
        "usr/lib/python3.11/",
        "usr/lib/python3.11/lib-dynload/",
        "usr/lib/python3.11/importlib/",
        "usr/lib/python3.10/",
        "app/",
    ] {
        items.push(TarItem::dir(dir));
    }
    items.push(TarItem::file(
        "usr/lib/python3.11/importlib/__init__.py",
        b"",
        0o644,
    ));
    items.push(TarItem::file("usr/lib/python3.10/os.py", b"", 0o644));
    items.extend(
        files
            .iter()
            .map(|(path, source)| TarItem::file(path, source, 0o644)),
    );
    let idx = index(&items);
    let layout = AppLayout {
        app_dirs: vec!["/app".into()],
        ..Default::default()
    };
    let reached = reachable(&idx, &layout, &set(&["/app/main.py"]));
    for path in [
        "/usr/lib/python3.11/importlib/_abc.py",
        "/usr/lib/python3.11/heapq.py",
        "/usr/lib/python3.11/itertools.py",
        "/usr/lib/python3.11/pdb.py",
        "/usr/lib/python3.11/lib-dynload/_decimal.cpython-311-x86_64-linux-gnu.so",
        "/usr/lib/python3.11/_slow.py",
        "/usr/lib/python3.11/_pyversion.py",
        "/usr/lib/python3.11/_guard_fallback.py",
        "/usr/lib/python3.11/_boot.py",
        "/usr/lib/python3.10/runpy.py",
    ] {
        assert_eq!(
            reached.get(path),
            Some(&Reason::Imported),
            "{path}: {reached:#?}"
        );
    }
    for path in [
        "/usr/lib/python3.11/doctest.py",
        "/usr/lib/python3.11/_pydecimal.py",
        "/usr/lib/python3.11/ctypes.py",
        "/usr/lib/python3.11/_typeshed.py",
        "/usr/lib/python3.11/importlib/util.py",
    ] {
        assert!(!reached.contains_key(path), "{path}: {reached:#?}");
    }
}

/// An image of `files` (path, content) and the directories that hold them.
fn image_of(files: &[(&str, &[u8])]) -> FileIndex {
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for (path, _) in files {
        let mut dir = pare_image::path::parent(&format!("/{path}")).to_owned();
        while dir != "/" {
            dirs.insert(format!("{}/", &dir[1..]));
            dir = pare_image::path::parent(&dir).to_owned();
        }
    }
    let mut items: Vec<TarItem> = dirs.iter().map(|d| TarItem::dir(d)).collect();
    items.extend(files.iter().map(|(p, c)| TarItem::file(p, c, 0o644)));
    index(&items)
}

/// Each of `paths` was reached for `reason`.
fn assert_reached(reached: &BTreeMap<String, Reason>, paths: &[&str], reason: Reason) {
    for path in paths {
        assert_eq!(reached.get(*path), Some(&reason), "{path}: {reached:#?}");
    }
}

/// A PHP site served by nginx from `/srv/site/public`, its libraries beside the
/// document root, a PEAR-style library from Debian in `/usr/share/php`.
#[test]
fn php_includes_are_followed_out_of_the_document_root_and_into_usr_share_php() {
    let idx = image_of(&[
        ("etc/nginx/nginx.conf", b"server {\n  root /srv/site/public;\n}\n"),
        (
            "srv/site/public/index.php",
            b"<?php\nrequire_once __DIR__ . '/../lib/layout.php';\n// include __DIR__ . '/../lib/old.php';\ninclude $page . '.php';\ninclude __DIR__ . '/../lib/' . $name;\n?>\n<p>include '../lib/text.php';</p>\n",
        ),
        (
            "srv/site/public/contact.php",
            b"<?php\nif ($_POST) {\n    require_once dirname(__FILE__) . \"/../lib/Mailer.php\";\n}\n",
        ),
        ("srv/site/lib/layout.php", b"<?php require_once('Mail/mime.php');\n"),
        ("srv/site/lib/Mailer.php", b"<?php\n"),
        ("srv/site/lib/old.php", b"<?php\n"),
        ("srv/site/lib/page.php", b"<?php\n"),
        ("srv/site/lib/text.php", b"<?php\n"),
        ("usr/share/php/Mail/mime.php", b"<?php\nrequire_once 'PEAR.php';\n"),
        ("usr/share/php/PEAR.php", b"<?php\n"),
        ("usr/share/php/Unused.php", b"<?php\n"),
    ]);
    // The probes ran index.php only; contact.php is a served page no probe asked for.
    let kept = set(&["/srv/site/public/index.php"]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    assert_reached(&reached, &["/srv/site/public/contact.php"], Reason::AppFile);
    assert_reached(
        &reached,
        &[
            // `__DIR__ . '/../lib/layout.php'`: outside the document root.
            "/srv/site/lib/layout.php",
            // A served page's include on a branch no probe took.
            "/srv/site/lib/Mailer.php",
            // `require_once('Mail/mime.php')` found in include_path, and what it
            // requires.
            "/usr/share/php/Mail/mime.php",
            "/usr/share/php/PEAR.php",
        ],
        Reason::Imported,
    );
    for path in [
        // Commented out, a run-time name, page text, never included.
        "/srv/site/lib/old.php",
        "/srv/site/lib/page.php",
        "/srv/site/lib/text.php",
        "/usr/share/php/Unused.php",
    ] {
        assert!(!reached.contains_key(path), "{path}: {reached:#?}");
    }
}

/// An app that reports its dependencies' versions through `importlib.metadata`: the
/// metadata of every distribution whose code is kept, or which the app names, is
/// kept; a distribution whose code is gone leaves with its metadata (a scanner would
/// read it as installed).
#[test]
fn importlib_metadata_keeps_the_metadata_of_kept_and_named_distributions() {
    let site = "opt/venv/lib/python3.11/site-packages";
    let files: Vec<(String, &[u8])> = vec![
        (
            "app/app.py".into(),
            b"from importlib import metadata\nimport flask\nimport yaml\nNAMES = ['flask', \"Requests\"]\n",
        ),
        (
            "usr/lib/python3.11/importlib/metadata/__init__.py".into(),
            b"import email\n",
        ),
        ("usr/lib/python3.11/email.py".into(), b"x = 1\n"),
        ("usr/lib/python3.11/os.py".into(), b"x = 1\n"),
        (format!("{site}/flask/__init__.py"), b"x = 1\n"),
        (
            format!("{site}/flask-3.0.3.dist-info/METADATA"),
            b"Name: Flask\n",
        ),
        (format!("{site}/requests/__init__.py"), b"x = 1\n"),
        (
            format!("{site}/requests-2.32.3.dist-info/METADATA"),
            b"Name: requests\nVersion: 2.32.3\n",
        ),
        (
            format!("{site}/requests-2.32.3.dist-info/RECORD"),
            b"requests/__init__.py,,\n",
        ),
        (format!("{site}/jwt/__init__.py"), b"x = 1\n"),
        (
            format!("{site}/PyJWT-1.7.1.dist-info/METADATA"),
            b"Name: PyJWT\nVersion: 1.7.1\n",
        ),
        (
            format!("{site}/PyJWT-1.7.1.dist-info/RECORD"),
            b"jwt/__init__.py,sha256=x,6\nPyJWT-1.7.1.dist-info/METADATA,,\n",
        ),
        (format!("{site}/yaml/__init__.py"), b"x = 1\n"),
        (
            format!("{site}/PyYAML-6.0.2.egg-info/PKG-INFO"),
            b"Name: PyYAML\n",
        ),
        (format!("{site}/PyYAML-6.0.2.egg-info/top_level.txt"), b"_yaml\nyaml\n"),
    ];
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let idx = image_of(&refs);
    let layout = AppLayout {
        app_dirs: vec!["/app".into()],
        ..Default::default()
    };
    let venv = format!("/{site}");
    let kept = set(&["/app/app.py", &format!("{venv}/flask/__init__.py")]);
    let reached = reachable(&idx, &layout, &kept);
    assert_reached(
        &reached,
        &[
            // Named in the app's code.
            &format!("{venv}/requests-2.32.3.dist-info/METADATA"),
            // Its code kept: traced, or imported by the app.
            &format!("{venv}/flask-3.0.3.dist-info/METADATA"),
            &format!("{venv}/PyYAML-6.0.2.egg-info/PKG-INFO"),
            &format!("{venv}/PyYAML-6.0.2.egg-info/top_level.txt"),
        ],
        Reason::ResourceSet,
    );
    // Requests' code stays out, and so does the list of its files; PyJWT, neither
    // imported nor named, leaves whole.
    for path in [
        format!("{venv}/requests/__init__.py"),
        format!("{venv}/requests-2.32.3.dist-info/RECORD"),
        format!("{venv}/jwt/__init__.py"),
        format!("{venv}/PyJWT-1.7.1.dist-info/METADATA"),
    ] {
        assert!(!reached.contains_key(&path), "{path}: {reached:#?}");
    }

    // Without a reader of metadata, no metadata is kept beyond what ran.
    let files: Vec<(&str, &[u8])> = refs
        .iter()
        .map(|(p, c)| {
            if *p == "app/app.py" {
                (*p, &b"import flask\n"[..])
            } else {
                (*p, *c)
            }
        })
        .collect();
    let idx = image_of(&files);
    let reached = reachable(&idx, &layout, &kept);
    assert!(
        !reached
            .keys()
            .any(|p| p.contains(".dist-info/") || p.contains(".egg-info/")),
        "{reached:#?}"
    );
}

/// A venv's scripts name `python3`; `docker exec … python` needs the venv's other
/// name for it too. Links to programs that were not kept, and links outside `bin`
/// directories, stay out.
#[test]
fn other_names_of_a_kept_program_are_kept() {
    let idx = index(&[
        TarItem::dir("usr/"),
        TarItem::dir("usr/bin/"),
        TarItem::file("usr/bin/python3.11", b"\x7fELF", 0o755),
        TarItem::symlink("usr/bin/python3", "python3.11"),
        TarItem::file("usr/bin/pydoc3.11", b"#!/usr/bin/python3.11\n", 0o755),
        TarItem::symlink("usr/bin/pydoc3", "pydoc3.11"),
        TarItem::dir("usr/lib/"),
        TarItem::file("usr/lib/libx.so.1", b"\x7fELF", 0o755),
        TarItem::symlink("usr/lib/libx.so", "libx.so.1"),
        TarItem::file("usr/lib/ld-linux-x86-64.so.2", b"\x7fELF", 0o755),
        TarItem::symlink("usr/bin/ld.so", "/usr/lib/ld-linux-x86-64.so.2"),
        TarItem::dir("opt/"),
        TarItem::dir("opt/venv/"),
        TarItem::dir("opt/venv/bin/"),
        TarItem::symlink("opt/venv/bin/python3", "/usr/bin/python3.11"),
        TarItem::symlink("opt/venv/bin/python", "python3"),
        TarItem::symlink("opt/venv/bin/python3.11", "python3"),
    ]);
    let kept = set(&[
        "/usr/bin/python3.11",
        "/opt/venv/bin/python3",
        "/usr/lib/libx.so.1",
        "/usr/lib/ld-linux-x86-64.so.2",
    ]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    assert_reached(
        &reached,
        &[
            "/opt/venv/bin/python",
            "/opt/venv/bin/python3.11",
            "/usr/bin/python3",
        ],
        Reason::Alias,
    );
    // A link to a program not kept, a library's link outside bin, the loader's name.
    for path in ["/usr/bin/pydoc3", "/usr/lib/libx.so", "/usr/bin/ld.so"] {
        assert!(!reached.contains_key(path), "{path}: {reached:#?}");
    }
}

/// A Dancer2-style app on Debian's Perl: its own module in `lib` beside `bin`, a
/// plugin Template Toolkit loads by the name a template gives (`USE date`), through
/// its table of plugins, with a compiled part found by the module's name; an engine
/// Dancer2 loads by a name it makes from the configuration; a fallback module
/// required by a literal name; and an SSL module tried in an `eval` (as HTTP::Tiny
/// does at its first `https` URL).
#[test]
fn perl_loads_follow_use_require_plugin_tables_and_namespaces() {
    let share = "usr/share/perl5";
    let arch = "usr/lib/x86_64-linux-gnu/perl5/5.36";
    let files: Vec<(String, &[u8])> = vec![
        (
            "app/bin/app.psgi".into(),
            b"use FindBin;\nuse lib \"$FindBin::Bin/../lib\";\nuse Shop;\nShop->to_app;\n",
        ),
        (
            "app/lib/Shop.pm".into(),
            b"package Shop;\nuse Dancer2;\nuse parent -norequire, 'Shop::Base';\n1;\n",
        ),
        (
            format!("{share}/Dancer2.pm"),
            b"package Dancer2;\nuse Dancer2::Core::App;\n1;\n__END__\nuse Dancer2::Never;\n",
        ),
        (
            format!("{share}/Dancer2/Core/App.pm"),
            b"use Module::Runtime 'require_module';\n\
              sub fallback { require_module('Template::Tiny'); }\n\
              sub engine { my $class = \"Dancer2::Serializer::$type\"; }\n\
              sub ssl { eval { require IO::Socket::SSL; 1 } or die }\n",
        ),
        (format!("{share}/Dancer2/Never.pm"), b"1;\n"),
        (format!("{share}/Dancer2/Serializer/JSON.pm"), b"use JSON::PP;\n1;\n"),
        (format!("{share}/Dancer2/Serializer/YAML.pm"), b"1;\n"),
        (format!("{share}/Module/Runtime.pm"), b"1;\n"),
        (format!("{share}/Template/Tiny.pm"), b"1;\n"),
        (format!("{share}/IO/Socket/SSL.pm"), b"1;\n"),
        ("usr/share/perl/5.36.0/JSON/PP.pm".into(), b"1;\n"),
        (format!("{arch}/Template.pm"), b"use Template::Plugins;\n1;\n"),
        (
            format!("{arch}/Template/Plugins.pm"),
            b"our $STD_PLUGINS = {\n    'date' => 'Template::Plugin::Date',\n    'gone' => 'Template::Plugin::Gone',\n};\n",
        ),
        (
            format!("{arch}/Template/Plugin/Date.pm"),
            b"use POSIX ();\n1;\n",
        ),
        (format!("{arch}/Template/Plugin/Other.pm"), b"1;\n"),
        ("usr/lib/x86_64-linux-gnu/perl/5.36.0/POSIX.pm".into(), b"XSLoader::load();\n"),
        (
            "usr/lib/x86_64-linux-gnu/perl/5.36.0/auto/POSIX/POSIX.so".into(),
            b"\x7fELF",
        ),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let idx = image_of(&files);
    let layout = AppLayout {
        app_dirs: vec!["/app/bin".into()],
        ..Default::default()
    };
    let kept = set(&["/app/bin/app.psgi", &format!("/{arch}/Template.pm")]);
    let reached = reachable(&idx, &layout, &kept);
    assert_reached(
        &reached,
        &[
            "/app/lib/Shop.pm",
            &format!("/{share}/Dancer2.pm"),
            &format!("/{share}/Dancer2/Core/App.pm"),
            &format!("/{share}/Module/Runtime.pm"),
            &format!("/{share}/Template/Tiny.pm"),
            &format!("/{share}/Dancer2/Serializer/JSON.pm"),
            &format!("/{share}/Dancer2/Serializer/YAML.pm"),
            "/usr/share/perl/5.36.0/JSON/PP.pm",
            &format!("/{share}/IO/Socket/SSL.pm"),
            &format!("/{arch}/Template/Plugins.pm"),
            &format!("/{arch}/Template/Plugin/Date.pm"),
            "/usr/lib/x86_64-linux-gnu/perl/5.36.0/POSIX.pm",
            "/usr/lib/x86_64-linux-gnu/perl/5.36.0/auto/POSIX/POSIX.so",
        ],
        Reason::Imported,
    );
    for path in [
        format!("/{share}/Dancer2/Never.pm"),
        format!("/{arch}/Template/Plugin/Other.pm"),
    ] {
        assert!(!reached.contains_key(&path), "{path}: {reached:#?}");
    }
}

/// A shell script and a Lua module the trace kept are counted as code whose loads
/// reach does not read; a directory named like one is not.
#[test]
fn kept_code_of_languages_reach_does_not_read_is_counted() {
    let idx = image_of(&[
        ("app/start.sh", b"#!/bin/sh\n. /app/env.sh\nexec app\n"),
        ("app/env.sh", b"X=1\n"),
        ("app/plugins/a.lua", b"require 'b'\n"),
        ("app/conf.sh/x", b"\n"),
        ("app/main.py", b"import os\n"),
    ]);
    let kept = set(&[
        "/app/start.sh",
        "/app/plugins/a.lua",
        "/app/conf.sh",
        "/app/main.py",
    ]);
    let figures = Figures::of(
        &idx,
        &AppLayout::default(),
        &kept,
        &BTreeMap::new(),
        KeepMode::Reachable,
    );
    assert_eq!(
        figures.not_followed,
        [("Lua module".to_owned(), 1), ("shell script".to_owned(), 1)].into()
    );
}

/// Pygments loads a style by a name it is given (`__import__('pygments.styles.' +
/// mod)`): every style module is kept, and a style's own function-level import is
/// followed as a traced module's would be; a computed name in another package's code
/// keeps nothing of that package's namesake.
#[test]
fn submodules_imported_by_a_computed_name_are_kept_as_a_set() {
    let site = "usr/lib/python3/dist-packages";
    let files: Vec<(String, &[u8])> = vec![
        ("usr/lib/python3.11/os.py".into(), b"x = 1\n"),
        ("usr/lib/python3.11/colorsys.py".into(), b"x = 1\n"),
        (
            format!("{site}/pygments/__init__.py"),
            b"x = 1\n",
        ),
        (
            format!("{site}/pygments/styles/__init__.py"),
            b"def get_style_by_name(name):\n    mod, cls = STYLE_MAP[name].split('::')\n    mod = __import__('pygments.styles.' + mod, None, None, [cls])\n",
        ),
        (
            format!("{site}/pygments/styles/monokai.py"),
            b"def shade():\n    import colorsys\n",
        ),
        (format!("{site}/pygments/styles/solarized.py"), b"x = 1\n"),
        (format!("{site}/pygments/styles/extra/__init__.py"), b"x = 1\n"),
        (format!("{site}/pygments/styles/extra/deep.py"), b"x = 1\n"),
        (
            format!("{site}/other/__init__.py"),
            b"def f(n):\n    return __import__('pygments.lexers.' + n)\n",
        ),
        (format!("{site}/pygments/lexers/__init__.py"), b"x = 1\n"),
        (format!("{site}/pygments/lexers/rust.py"), b"x = 1\n"),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let idx = image_of(&files);
    let kept = set(&[
        &format!("/{site}/pygments/__init__.py"),
        &format!("/{site}/pygments/styles/__init__.py"),
        &format!("/{site}/other/__init__.py"),
    ]);
    let reached = reachable(&idx, &AppLayout::default(), &kept);
    assert_reached(
        &reached,
        &[
            &format!("/{site}/pygments/styles/monokai.py"),
            &format!("/{site}/pygments/styles/solarized.py"),
            &format!("/{site}/pygments/styles/extra/__init__.py"),
        ],
        Reason::ResourceSet,
    );
    assert_reached(
        &reached,
        &["/usr/lib/python3.11/colorsys.py"],
        Reason::Imported,
    );
    for path in [
        format!("/{site}/pygments/styles/extra/deep.py"),
        format!("/{site}/pygments/lexers/rust.py"),
    ] {
        assert!(!reached.contains_key(&path), "{path}: {reached:#?}");
    }
}

/// Rack finds a server's handler by the name it is given (`require
/// "rack/handler/#{server}"`): every handler in that directory is reachable, not
/// its subdirectories.
#[test]
fn a_ruby_require_of_an_interpolated_name_reaches_its_directory() {
    let lib = "usr/lib/ruby/vendor_ruby";
    let files: Vec<(String, &[u8])> = vec![
        ("app/app.rb".into(), b"require 'rack/handler'\n"),
        (
            format!("{lib}/rack/handler.rb"),
            b"def self.get(server)\n  require \"rack/handler/#{server.downcase}\"\nend\n",
        ),
        (format!("{lib}/rack/handler/puma.rb"), b"require 'puma'\n"),
        (format!("{lib}/rack/handler/webrick.rb"), b"x = 1\n"),
        (format!("{lib}/rack/handler/deep/x.rb"), b"x = 1\n"),
        (format!("{lib}/puma.rb"), b"x = 1\n"),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let idx = image_of(&files);
    let reached = reachable(&idx, &AppLayout::default(), &set(&["/app/app.rb"]));
    assert_reached(
        &reached,
        &[
            &format!("/{lib}/rack/handler.rb"),
            &format!("/{lib}/rack/handler/puma.rb"),
            &format!("/{lib}/rack/handler/webrick.rb"),
            &format!("/{lib}/puma.rb"),
        ],
        Reason::Imported,
    );
    let deep = format!("/{lib}/rack/handler/deep/x.rb");
    assert!(!reached.contains_key(&deep), "{reached:#?}");
}

/// A package that requires a language by the name it is given (`require('./lang/' +
/// name)`) reaches every script and JSON file of that directory.
#[test]
fn a_node_require_of_a_computed_name_reaches_its_directory() {
    let files: &[(&str, &[u8])] = &[
        (
            "app/server.js",
            b"const m = require('./node_modules/dates');\n",
        ),
        (
            "app/node_modules/dates/index.js",
            b"function load(name) { return require('./lang/' + name); }\n",
        ),
        (
            "app/node_modules/dates/lang/fr.js",
            b"require('../util');\n",
        ),
        ("app/node_modules/dates/lang/ja.json", b"{}\n"),
        ("app/node_modules/dates/lang/README.md", b"x\n"),
        ("app/node_modules/dates/util.js", b"x\n"),
    ];
    let idx = image_of(files);
    let reached = reachable(&idx, &AppLayout::default(), &set(&["/app/server.js"]));
    assert_reached(
        &reached,
        &[
            "/app/node_modules/dates/index.js",
            "/app/node_modules/dates/lang/fr.js",
            "/app/node_modules/dates/lang/ja.json",
            "/app/node_modules/dates/util.js",
        ],
        Reason::Imported,
    );
    assert!(!reached.contains_key("/app/node_modules/dates/lang/README.md"));
}

/// Debian's `/usr/share/node_modules` is a link to `/usr/share/nodejs`: a package
/// found through it is read where it is, and its relative requires resolve there
/// (handlebars' `lib/index.js` requires `../dist/cjs/handlebars`).
#[test]
fn a_module_reached_through_a_linked_directory_is_followed() {
    let idx = index(&[
        TarItem::dir("app/"),
        TarItem::file("app/server.js", b"require('handlebars');\n", 0o644),
        TarItem::dir("usr/"),
        TarItem::dir("usr/share/"),
        TarItem::symlink("usr/share/node_modules", "nodejs"),
        TarItem::dir("usr/share/nodejs/"),
        TarItem::dir("usr/share/nodejs/handlebars/"),
        TarItem::file(
            "usr/share/nodejs/handlebars/package.json",
            b"{\"main\": \"lib/index.js\"}",
            0o644,
        ),
        TarItem::dir("usr/share/nodejs/handlebars/lib/"),
        TarItem::file(
            "usr/share/nodejs/handlebars/lib/index.js",
            b"var h = require('../dist/cjs/handlebars')['default'];\n",
            0o644,
        ),
        TarItem::dir("usr/share/nodejs/handlebars/dist/"),
        TarItem::dir("usr/share/nodejs/handlebars/dist/cjs/"),
        TarItem::file(
            "usr/share/nodejs/handlebars/dist/cjs/handlebars.js",
            b"x\n",
            0o644,
        ),
    ]);
    let layout = AppLayout {
        node_path: vec!["/usr/share/node_modules".into()],
        ..Default::default()
    };
    let reached = reachable(&idx, &layout, &set(&["/app/server.js"]));
    assert_eq!(
        reached.get("/usr/share/nodejs/handlebars/dist/cjs/handlebars.js"),
        Some(&Reason::Imported),
        "{reached:#?}"
    );
}
