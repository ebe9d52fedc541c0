//! Rebuilding Dockerfile instructions from an image config's history.
//!
//! The classic builder records `/bin/sh -c #(nop) CMD [...]` for metadata steps and
//! `/bin/sh -c <script>` (prefixed `|N ARG=... ` when build args were set) for RUN;
//! BuildKit records the instruction itself with a trailing `# buildkit`.

/// One history step rendered as a Dockerfile instruction.
pub fn instruction(created_by: &str, comment: Option<&str>) -> String {
    let text = created_by.trim();
    if text.is_empty() {
        return match comment {
            Some(c) if c.starts_with("Imported from") => format!("# {c} (docker import)"),
            Some(c) => format!("# {c}"),
            None => "# (no history)".into(),
        };
    }
    let text = text
        .strip_suffix("# buildkit")
        .map(str::trim_end)
        .unwrap_or(text);
    let text = strip_build_args(text);
    if let Some(rest) = text.strip_prefix("/bin/sh -c #(nop)") {
        return tidy_metadata(rest.trim());
    }
    if let Some(script) = text.strip_prefix("/bin/sh -c ") {
        return format!("RUN {}", script.trim());
    }
    if let Some(rest) = text.strip_prefix("RUN |") {
        // BuildKit with build args: `RUN |1 A=b /bin/sh -c x`
        return format!(
            "RUN {}",
            strip_build_args(&format!("|{rest}"))
                .trim_start_matches("/bin/sh -c ")
                .trim()
        );
    }
    if let Some(rest) = text.strip_prefix("RUN /bin/sh -c ") {
        return format!("RUN {}", rest.trim());
    }
    tidy_metadata(text)
}

/// `|2 A=1 B=2 /bin/sh -c x` → `/bin/sh -c x`.
fn strip_build_args(text: &str) -> &str {
    let Some(rest) = text.strip_prefix('|') else {
        return text;
    };
    let mut parts = rest.splitn(2, ' ');
    let count: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut remainder = parts.next().unwrap_or("");
    for _ in 0..count {
        remainder = remainder.split_once(' ').map(|(_, r)| r).unwrap_or("");
    }
    remainder
}

/// `COPY file:abc in /app ` → `COPY file:abc /app`; `EXPOSE map[8080/tcp:{}]` → `EXPOSE 8080/tcp`.
fn tidy_metadata(text: &str) -> String {
    let text = text.trim();
    for verb in ["COPY", "ADD"] {
        if let Some(rest) = text.strip_prefix(verb).and_then(|r| r.strip_prefix(' '))
            && let Some((src, dest)) = rest.split_once(" in ")
        {
            return format!("{verb} {} {}", src.trim(), dest.trim());
        }
    }
    if let Some(map) = text
        .strip_prefix("EXPOSE map[")
        .and_then(|r| r.strip_suffix(']'))
    {
        let ports: Vec<&str> = map
            .split_whitespace()
            .map(|p| p.trim_end_matches(":{}"))
            .collect();
        return format!("EXPOSE {}", ports.join(" "));
    }
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::instruction;

    #[test]
    fn classic_builder() {
        assert_eq!(
            instruction("/bin/sh -c #(nop)  CMD [\"nginx\"]", None),
            "CMD [\"nginx\"]"
        );
        assert_eq!(
            instruction("/bin/sh -c #(nop)  USER nobody", None),
            "USER nobody"
        );
        assert_eq!(
            instruction("/bin/sh -c #(nop) COPY file:4f2d in /app/app.py ", None),
            "COPY file:4f2d /app/app.py"
        );
        assert_eq!(
            instruction("/bin/sh -c apt-get update", None),
            "RUN apt-get update"
        );
        assert_eq!(
            instruction("|1 BASE=x /bin/sh -c echo hi", None),
            "RUN echo hi"
        );
        assert_eq!(
            instruction("", Some("Imported from -")),
            "# Imported from - (docker import)"
        );
    }

    #[test]
    fn buildkit() {
        assert_eq!(
            instruction("RUN /bin/sh -c make # buildkit", None),
            "RUN make"
        );
        assert_eq!(
            instruction("COPY app.py /app/ # buildkit", None),
            "COPY app.py /app/"
        );
        assert_eq!(
            instruction("EXPOSE map[8080/tcp:{}]", None),
            "EXPOSE 8080/tcp"
        );
        assert_eq!(
            instruction("RUN |1 X=1 /bin/sh -c make # buildkit", None),
            "RUN make"
        );
    }
}
