//! Phase `read`: open the image, index its layers once, catalogue its packages, and
//! work out what the app's command line is.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use pare_image::{EntryKind, ImageConfig, ImageRead, OpenImage, ReadOptions, RunConfig};

use crate::error::BuildError;
use crate::options::{BuildOptions, ExecEntrypoint};
use crate::progress::{Phase, Reporter};

/// The original image, read once.
pub struct Original {
    pub opened: OpenImage,
    pub config: ImageConfig,
    pub run: RunConfig,
    /// ENTRYPOINT + CMD as Docker combines them (`--run-args` replacing CMD).
    pub argv: Vec<String>,
    /// The image's USER, `root` when it has none.
    pub user: String,
    /// The first pass: the index, with the bytes the catalogers and ld.so's
    /// configuration need.
    pub first: ImageRead,
    pub sbom: pare_sbom::Sbom,
    pub size: ImageSize,
}

impl Original {
    /// The port the probes go to: the one asked for, else the first exposed TCP port.
    pub fn port(&self, options: &BuildOptions) -> Option<u16> {
        options.port.or_else(|| first_tcp_port(&self.run))
    }

    /// A service (probed on a port) rather than a CLI image (run to completion).
    pub fn service_port(&self, options: &BuildOptions) -> Option<u16> {
        self.port(options).filter(|_| options.run_args.is_empty())
    }

    /// A CLI image's runs after its first: one per further `--run-args` (ENTRYPOINT
    /// kept), then one per exec probe (its command replacing ENTRYPOINT and CMD: a
    /// container that has exited takes no `exec`). None for a service.
    pub fn more_runs(&self, options: &BuildOptions) -> Vec<CliRun> {
        if self.service_port(options).is_some() {
            return Vec::new();
        }
        let with_args = options.run_args.iter().skip(1).filter_map(|args| {
            Some(CliRun {
                label: format!("run {}", shell_words(args)),
                argv: command_line(&self.run, Some(args))?,
            })
        });
        let execs = options.exec_probes.iter().map(|command| CliRun {
            label: crate::probe::exec_label(command),
            argv: command.clone(),
        });
        with_args.chain(execs).collect()
    }

    /// `options` with every exec probe's command put under `--exec-entrypoint`, so that
    /// the trace, the reference runs, the verification and the reports all run and
    /// name the same command line. None when there is no entrypoint to apply.
    pub fn exec_probes_under_entrypoint(
        &self,
        options: &BuildOptions,
    ) -> Result<Option<BuildOptions>, BuildError> {
        let prefix = match &options.exec_entrypoint {
            None => return Ok(None),
            Some(ExecEntrypoint::Program(words)) => words.clone(),
            Some(ExecEntrypoint::Image) => self
                .run
                .entrypoint
                .clone()
                .filter(|e| !e.is_empty())
                .ok_or(BuildError::NoEntrypointForExec)?,
        };
        let mut resolved = options.clone();
        resolved.exec_entrypoint = None;
        for command in &mut resolved.exec_probes {
            command.splice(0..0, prefix.iter().cloned());
        }
        Ok(Some(resolved))
    }

    /// The value of `key` in the image's environment, split at `:`.
    pub fn env_list(&self, key: &str) -> Vec<String> {
        self.run
            .env
            .iter()
            .flatten()
            .find_map(|e| e.strip_prefix(key)?.strip_prefix('='))
            .map(|v| {
                v.split(':')
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An image's size as the report gives it, the original's (measured while it is
/// read) and the slim one's.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ImageSize {
    pub uncompressed_bytes: u64,
    pub compressed_bytes: u64,
    pub files: u64,
    pub layers: usize,
}

/// Reads the image. An image in the engine is exported once into the work dir's spool.
pub fn read(options: &BuildOptions, reporter: &dyn Reporter) -> Result<Original, BuildError> {
    let spool = options.work_dir.join("spool");
    crate::error::create_dir(&spool)?;
    // One pass serves the keep-set (ld.so's configuration) and the catalogers that
    // tell which packages the slim image keeps; an image in the engine is spooled
    // while it is indexed. The bytes read so far are told to the reporter.
    let done = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&done);
    // The static import closure and the served directories read sources and server
    // configuration: their bytes come with this pass, not with a read per round.
    let reach = options.keep == crate::reach::KeepMode::Reachable;
    let read_options = ReadOptions {
        keep_content: Some(Arc::new(move |p: &str, size: u64| {
            (p.starts_with("/etc/ld.so.conf") && size < 65536)
                || pare_sbom::wanted(p, size)
                || (reach && crate::reach::wants_content(p, size))
        })),
        progress: Some(Arc::new(move |n| {
            counted.fetch_add(n, Ordering::Relaxed);
        })),
        ..pare_sbom::read_options()
    };
    let total = pare_image::expected_read_size(&options.context, &options.image).unwrap_or(0);
    let finished = AtomicBool::new(false);
    let (opened, first) = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::Relaxed) {
                reporter.advance(Phase::Read, done.load(Ordering::Relaxed), total);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let read =
            pare_image::open_and_read(&options.context, &options.image, &spool, &read_options);
        finished.store(true, Ordering::Relaxed);
        read
    })?;
    // Package metadata behind links (a symlinked /var/lib/dpkg) is read as dpkg
    // reads it: the image is read once more only when such links exist.
    let first = pare_sbom::follow_links_with(first, &read_options, |again| opened.read(again))?;
    let config = opened.resolved.config.clone();
    let run = config.run();
    let first_args = options.run_args.first().map(Vec::as_slice);
    let argv = command_line(&run, first_args).ok_or(BuildError::NothingToRun)?;
    let user = run
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".into());
    let sbom = pare_sbom::catalog(&first);
    let size = ImageSize {
        uncompressed_bytes: first.layers.iter().map(|l| l.tar_size).sum(),
        compressed_bytes: first.layers.iter().map(|l| l.blob_size).sum(),
        files: first
            .index
            .nodes
            .values()
            .filter(|n| n.kind != EntryKind::Dir)
            .count() as u64,
        layers: first.layers.len(),
    };
    Ok(Original {
        opened,
        config,
        run,
        argv,
        user,
        first,
        sbom,
        size,
    })
}

/// One more run of a CLI image: what the reports call it, and its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliRun {
    pub label: String,
    pub argv: Vec<String>,
}

/// `-n '1 + 41'`: arguments as a shell would read them back.
fn shell_words(args: &[String]) -> String {
    shlex::try_join(args.iter().map(String::as_str)).unwrap_or_else(|_| args.join(" "))
}

/// ENTRYPOINT + CMD as Docker combines them (run args replace CMD).
fn command_line(run: &RunConfig, run_args: Option<&[String]>) -> Option<Vec<String>> {
    let mut argv: Vec<String> = run.entrypoint.clone().unwrap_or_default();
    match run_args {
        Some(args) => argv.extend(args.iter().cloned()),
        None => argv.extend(run.cmd.clone().unwrap_or_default()),
    }
    (!argv.is_empty()).then_some(argv)
}

fn first_tcp_port(run: &RunConfig) -> Option<u16> {
    run.exposed_ports
        .iter()
        .flatten()
        .filter_map(|(k, _)| {
            k.strip_suffix("/tcp")
                .or(Some(k.as_str()))
                .and_then(|p| p.parse().ok())
        })
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_args_replace_cmd_and_keep_the_entrypoint() {
        let run = RunConfig {
            entrypoint: Some(vec!["/usr/bin/jq".into()]),
            cmd: Some(vec!["--help".into()]),
            ..Default::default()
        };
        assert_eq!(command_line(&run, None).unwrap(), ["/usr/bin/jq", "--help"]);
        assert_eq!(
            command_line(&run, Some(&["-n".into(), "1+1".into()])).unwrap(),
            ["/usr/bin/jq", "-n", "1+1"]
        );
        assert!(command_line(&RunConfig::default(), None).is_none());
    }
}
