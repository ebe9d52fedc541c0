//! `pare copy SRC DST`: an image from any transport to any other, blobs as stored.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pare_image::{ImageRef, ReadContext};

use crate::output::{emit, pretty};
use crate::render::copy::copied;

#[derive(clap::Args)]
pub struct CopyArgs {
    /// The image to copy: docker://REGISTRY/NAME[:TAG|@DIGEST], docker-daemon:NAME,
    /// containers-storage:NAME, docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH.
    pub source: String,
    /// Where to put it, in the same syntax. An OCI layout that exists gets the image
    /// added under its tag; files are written whole or not at all.
    pub destination: String,
    /// Log in to the source registry as USER:PASSWORD (instead of --creds).
    #[arg(long, value_name = "USER:PASSWORD")]
    pub src_creds: Option<String>,
    /// Log in to the destination registry as USER:PASSWORD (instead of --creds).
    #[arg(long, value_name = "USER:PASSWORD")]
    pub dest_creds: Option<String>,
    /// Certificates for the source registry (instead of --cert-dir).
    #[arg(long, value_name = "DIR")]
    pub src_cert_dir: Option<PathBuf>,
    /// Certificates for the destination registry (instead of --cert-dir).
    #[arg(long, value_name = "DIR")]
    pub dest_cert_dir: Option<PathBuf>,
    /// --tls-verify for the source registry only.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub src_tls_verify: Option<bool>,
    /// --tls-verify for the destination registry only.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub dest_tls_verify: Option<bool>,
    /// Also copy the image's referrers (attached SBOMs, VEX, provenance, signatures:
    /// OCI 1.1 artifacts whose subject is the image), registry to registry.
    #[arg(long)]
    pub all_referrers: bool,
    /// Print what was copied as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: CopyArgs, context: &ReadContext) -> anyhow::Result<ExitCode> {
    let source = ImageRef::parse(&args.source)?;
    let destination = ImageRef::parse(&args.destination)?;
    let mut context = context.clone();
    for (reference, creds, cert_dir, tls_verify) in [
        (
            &source,
            &args.src_creds,
            &args.src_cert_dir,
            args.src_tls_verify,
        ),
        (
            &destination,
            &args.dest_creds,
            &args.dest_cert_dir,
            args.dest_tls_verify,
        ),
    ] {
        if let ImageRef::Registry { reference } = reference
            && (creds.is_some() || cert_dir.is_some() || tls_verify.is_some())
        {
            let access = crate::registry_args::access(creds.as_deref(), cert_dir, tls_verify)?;
            context = context.with_access(&reference.registry, access);
        }
    }
    let work = tempfile::Builder::new()
        .prefix("pare-copy-")
        .tempdir()
        .context("creating a work directory")?;
    let _on_interrupt = pare_runtime::cleanup::register_dir(work.path().to_owned());
    // A file or layout is written under staging names: Ctrl-C removes this run's.
    let _staging = match &destination {
        ImageRef::OciLayout { dir: path, .. }
        | ImageRef::OciArchive { path, .. }
        | ImageRef::DockerArchive { path, .. } => {
            let path = path.clone();
            Some(pare_runtime::cleanup::register(move || {
                pare_image::staging::remove_leftovers(
                    &path,
                    pare_image::staging::Leftovers::OfThisRun,
                );
            }))
        }
        _ => None,
    };
    let referrers = match (&source, &destination) {
        (ImageRef::Registry { reference: from }, ImageRef::Registry { reference: to }) => {
            Some((from.clone(), to.clone()))
        }
        _ if args.all_referrers => anyhow::bail!(
            "--all-referrers: referrers live in registries; copy docker://… to docker://…"
        ),
        _ => None,
    }
    .filter(|_| args.all_referrers);
    let mut done = pare_image::copy(&context, &source, &destination, work.path())
        .with_context(|| format!("copying {source} to {destination}"))?;
    if let Some((from, to)) = referrers {
        let subject = done
            .manifest_digest
            .as_deref()
            .map(pare_image::Digest::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?
            .context("the copy gave no manifest digest")?;
        let copied = pare_image::referrers::copy(context.registries(), &from, &to, &subject)
            .with_context(|| format!("copying the referrers of {source} to {destination}"))?;
        done.referrers = Some(copied);
    }
    if args.json {
        emit(&pretty(&done)?, None)?;
    } else {
        emit(&copied(&done), None)?;
    }
    Ok(ExitCode::SUCCESS)
}
