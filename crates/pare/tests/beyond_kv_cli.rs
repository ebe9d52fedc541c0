//! Issue 21: a slim image must keep working beyond the probes it was built with. Two
//! apps of kinds users run, built from Debian's packages: a key-value store (redis,
//! not HTTP, with RDB snapshots and an append-only file) and an image-conversion CLI
//! (ImageMagick 6, whose format coders are plugins and whose colour names, fonts and
//! messages are configuration files read only when needed). Each is slimmed with the
//! probes a user writes on a first try, then sent a broad set of checks the probes
//! never made, to the original and to the slim image under the seccomp profile pare
//! wrote. The same checks against `--keep traced --seccomp learned` (the behaviour
//! before the issue) are printed beside, as the before/after evidence.

mod support;

use support::beyond::{
    Build, Check, assert_only_known, compare_cli, compare_service, print_evidence,
};
use support::{assert_nothing_left, pare_work_dirs, port_lock};

/// Each line that names something volatile with its words holding digits masked:
/// times, copy-on-write sizes, memory figures, addresses.
fn mask_lines(text: &str, volatile: &[&str]) -> String {
    text.lines()
        .map(|line| {
            if volatile.iter().any(|v| line.contains(v)) {
                line.split_whitespace()
                    .map(|w| {
                        if w.chars().any(|c| c.is_ascii_digit()) {
                            "#"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// kvstore: probed with a SET and a GET through redis-cli, then used the way its
/// operators do: other data types, Lua scripts and functions, a snapshot, the AOF
/// switched on live (it creates its directory: a syscall the probes never made) and
/// rewritten (background forks that create files), reloading from both, the
/// configuration rewritten, a replica's copy of the data, the slow log, ACLs, errors.
#[test]
fn kvstore_keeps_working_beyond_its_probes() {
    if support::skip_without_engine() {
        return;
    }
    let app = support::test_image("kvstore");
    let _port = port_lock();
    let before = pare_work_dirs();
    let cli = |args: &[&str]| {
        let mut all = vec!["redis-cli", "-p", "8094"];
        all.extend_from_slice(args);
        Check::exec(&all)
    };
    let checks = [
        cli(&["INCRBY", "counter", "41"]),
        cli(&["MSET", "k1", "v1", "k2", "v2"]),
        cli(&["MGET", "k1", "k2", "missing"]),
        cli(&["HSET", "h", "f1", "x", "f2", "y"]),
        cli(&["HGETALL", "h"]),
        cli(&["LPUSH", "l", "a", "b", "c"]),
        cli(&["LRANGE", "l", "0", "-1"]),
        cli(&["SORT", "l", "ALPHA"]),
        cli(&["SADD", "s", "x", "y", "z"]),
        cli(&["ZADD", "z", "1", "one", "2", "two"]),
        cli(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        cli(&["XADD", "st", "1-1", "f", "v"]),
        cli(&["XLEN", "st"]),
        cli(&["EVAL", "return redis.call('GET', KEYS[1])", "1", "k1"]),
        cli(&["EVAL", "return cjson.encode({1, 2, {a = 3}})", "0"]),
        cli(&["EVAL", "return bit.band(12, 10)", "0"]),
        cli(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=mylib\nredis.register_function('echo1', function(keys, args) return args[1] end)",
        ]),
        cli(&["FCALL", "echo1", "0", "hello"]),
        cli(&["BGSAVE"]),
        cli(&["DEBUG", "SLEEP", "1"]),
        // RDB to AOF on a live server: it creates the append-only directory.
        cli(&["CONFIG", "SET", "appendonly", "yes"]),
        cli(&["DEBUG", "SLEEP", "1"]),
        cli(&["BGREWRITEAOF"]),
        cli(&["DEBUG", "SLEEP", "1"]),
        cli(&["INFO", "persistence"]),
        Check::exec(&["redis-check-rdb", "/data/dump.rdb"]),
        Check::exec(&[
            "redis-check-aof",
            "/data/appendonlydir/appendonly.aof.manifest",
        ]),
        cli(&["--rdb", "/tmp/replica-copy.rdb"]),
        cli(&["DEBUG", "SLEEP", "1"]),
        cli(&["SAVE"]),
        cli(&["CONFIG", "GET", "dir"]),
        cli(&["CONFIG", "SET", "save", "900 1"]),
        cli(&["CONFIG", "REWRITE"]),
        cli(&["CONFIG", "GET", "save"]),
        cli(&["DEBUG", "RELOAD"]),
        cli(&["DEBUG", "LOADAOF"]),
        cli(&["DEBUG", "DIGEST"]),
        cli(&["GET", "counter"]),
        cli(&["INFO", "keyspace"]),
        cli(&["OBJECT", "ENCODING", "l"]),
        cli(&["SLOWLOG", "GET", "0"]),
        cli(&["ACL", "SETUSER", "bob", "on", ">pw", "~*", "+get"]),
        cli(&["ACL", "LIST"]),
        cli(&["--scan", "--pattern", "count*"]),
        cli(&["NOSUCH"]),
    ];
    let noise = |s: &str| {
        mask_lines(
            s,
            &[
                "_time",
                "cow",
                "ctime",
                "used-mem",
                "Value at:",
                "lru",
                "_perc",
            ],
        )
    };
    let probes = [
        "--no-http",
        "--exec",
        "redis-cli -p 8094 SET a 1",
        "--exec",
        "redis-cli -p 8094 GET a",
    ];
    let now = Build::new(&app.image, "pare-test/kvstore:beyond-default", &probes).verified();
    let after = compare_service(&app.image, &now.tag, 8094, &now.seccomp(), &checks, &noise);
    let old_args = [&probes[..], &["--keep", "traced", "--seccomp", "learned"]].concat();
    let old = Build::new(&app.image, "pare-test/kvstore:beyond-old", &old_args).verified();
    let before_fix = compare_service(&app.image, &old.tag, 8094, &old.seccomp(), &checks, &noise);
    print_evidence("kvstore", &now, &old, &after, &before_fix);
    assert_only_known(
        &after,
        &[(
            "exec redis-check-aof /data/appendonlydir/appendonly.aof.manifest",
            // A program of the image that neither the app nor a probe ran (Debian
            // ships it as a second copy of the server binary, not a link to it):
            // pare keeps programs that run, `--include-bin redis-check-aof` keeps it.
            "not kept: no probe ran it",
        )],
        "kvstore",
    );
    assert_nothing_left("after the kvstore builds", &before);
}

/// imgconv: `convert` as the entrypoint, probed with one conversion to PNG, then
/// asked for every other format Debian's ImageMagick writes without extra delegates,
/// the formats its security policy refuses, built-in images, named colours, text,
/// resizes, rotations, blurs, identify, bad and missing input, the version and lists.
#[test]
fn imgconv_keeps_working_beyond_its_probe() {
    if support::skip_without_engine() {
        return;
    }
    let app = support::test_image("imgconv");
    let _lock = port_lock();
    let before = pare_work_dirs();

    // The first try: the image's own command as the probe. PNG records the input's
    // change time (`date:create`, and a `tIME` chunk from it); every file of a slim
    // image is new to the engine, so its change time is the slim image's own, and
    // the answer differs from the original's. No reference run can learn that.
    let first = Build::new(
        &app.image,
        "pare-test/imgconv:beyond-first",
        &["--run-args", "/samples/in.png -resize 50% png:-"],
    );
    let stdout = first.run.stdout();
    assert_eq!(first.run.code(), Some(1), "{}", first.run.explain());
    assert!(
        stdout.contains("NOT VERIFIED") && stdout.contains("date:create"),
        "{}",
        first.run.explain()
    );
    drop(first);

    // The user's second try strips metadata, as thumbnails usually do.
    let probe = ["--run-args", "/samples/in.png -strip -resize 50% png:-"];
    let png = |args: &[&str]| {
        let mut all: Vec<String> = vec!["/samples/in.png".into()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        all.extend(["-strip".into(), "png:-".into()]);
        all
    };
    let to = |format: &str| vec!["/samples/in.png".to_owned(), format!("{format}:-")];
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    let runs = vec![
        to("jpg"),
        to("gif"),
        to("webp"),
        to("bmp"),
        to("tiff"),
        to("ppm"),
        to("ico"),
        to("tga"),
        to("pcx"),
        to("xpm"),
        to("sixel"),
        to("txt"),
        to("pdf"),
        to("ps"),
        args(&[
            "/samples/in.png",
            "-quality",
            "50",
            "-resize",
            "50%",
            "jpg:-",
        ]),
        png(&["-resize", "200%"]),
        png(&["-rotate", "90"]),
        png(&["-blur", "0x2"]),
        png(&["-colorspace", "Gray"]),
        args(&[
            "/samples/in.png",
            "-format",
            "%wx%h %m %[colorspace]",
            "info:-",
        ]),
        args(&["/samples/in.png", "-identify", "null:"]),
        args(&["/samples/broken.png", "png:-"]),
        args(&["/samples/missing.png", "png:-"]),
        args(&[
            "-size",
            "40x20",
            "xc:tomato",
            "-fill",
            "navy",
            "-draw",
            "circle 20,10 25,10",
            "-strip",
            "png:-",
        ]),
        args(&["-size", "2x2", "xc:papayawhip", "txt:-"]),
        args(&[
            "-font",
            "DejaVu-Sans",
            "-pointsize",
            "14",
            "label:Hello",
            "-strip",
            "png:-",
        ]),
        args(&["-size", "40x40", "gradient:blue-yellow", "-strip", "png:-"]),
        args(&["-size", "40x40", "pattern:checkerboard", "-strip", "png:-"]),
        args(&["rose:", "-strip", "png:-"]),
        args(&["logo:", "-resize", "10%", "-strip", "gif:-"]),
        args(&["-version"]),
        args(&["-list", "format"]),
        args(&["-list", "font"]),
        args(&["-list", "color"]),
    ];
    // identify's figures of time taken (`0.010u 0:00.004`), also at a line's end
    // (`# 0:00.001\n`).
    let noise = |s: &str| {
        s.split(' ')
            .map(|w| {
                let t = w.trim_end();
                let timing = t.ends_with('u') && t[..t.len() - 1].parse::<f64>().is_ok()
                    || t.contains(':') && t.split(':').all(|p| p.parse::<f64>().is_ok());
                if timing {
                    format!("#{}", &w[t.len()..])
                } else {
                    w.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let now = Build::new(&app.image, "pare-test/imgconv:beyond-default", &probe).verified();
    let after = compare_cli(&app.image, &now.tag, &now.seccomp(), &[], &runs, &noise);
    let old_args = [&probe[..], &["--keep", "traced", "--seccomp", "learned"]].concat();
    let old = Build::new(&app.image, "pare-test/imgconv:beyond-old", &old_args).verified();
    let before_fix = compare_cli(&app.image, &old.tag, &old.seccomp(), &[], &runs, &noise);
    print_evidence("imgconv", &now, &old, &after, &before_fix);
    assert_only_known(&after, &[], "imgconv");
    assert_nothing_left("after the imgconv builds", &before);
}
