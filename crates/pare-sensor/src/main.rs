//! `pare-sensor`: runs as PID 1 inside the container being minified, starts the app
//! under ptrace and writes what it used to `--out/report.json`. See the library docs
//! for the report and `cli.rs` for the flags.

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!("pare-sensor traces x86_64 Linux syscalls only");

mod affinity;
mod cli;
mod control;
mod environment;
mod fanotify;
mod file_syscalls;
mod flush;
mod memory;
mod named;
mod output;
mod path;
mod privileges;
mod procfs;
mod program;
mod ptrace;
mod recorder;
mod seccomp;
mod session;
mod signals;
mod sockaddr;
mod spawn;
mod stdio;
mod supervisor;
mod tracer;

fn main() {
    let options = match cli::parse(std::env::args_os().skip(1)) {
        Ok(options) => options,
        Err(e) if e == "help" => {
            println!("{}", cli::USAGE);
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("pare-sensor: {e}\n{}", cli::USAGE);
            std::process::exit(125);
        }
    };
    match supervisor::run(options) {
        Ok(status) => std::process::exit(status),
        Err(e) => {
            eprintln!("pare-sensor: {e:#}");
            std::process::exit(125);
        }
    }
}
