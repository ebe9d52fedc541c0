#!/usr/bin/python3
"""An independent evaluation of OSV records, for pare's tests to compare against.

    osv_eval.py RECORDS... < packages.json > matches.json
    osv_eval.py --probes RECORDS... > packages.json

RECORDS are folders of OSV JSON files or all.zip files. `--probes` lists, for every
package the records name, each version their events and `versions` lists mention (the
edges where a mistake in ordering or in the range rules shows). stdin is a JSON list of
{"ecosystem": "PyPI" | "npm" | "Go" | "Debian:12" ..., "name": ..., "version": ...};
stdout is the same list, each with "matches": the ids of the records that affect it.

Written apart from pare's Rust code, on other orderings: `dpkg --compare-versions` for
Debian and Ubuntu, the `packaging` library (Debian's python3-packaging) for PEP 440, the
SemVer 2.0 precedence rules coded below for npm and Go, and apk's version rules (as
apk-tools documents them: numbers, one letter, `_alpha`…`_p` suffixes, `-rN`) coded
below for Alpine, Wolfi and Chainguard, and rpm's own `rpm.vercmp` (Debian's rpm, through
`rpm --eval` and its Lua) for Red Hat, Rocky, AlmaLinux and SUSE. The evaluation follows the
OSV schema's pseudo-code: a version is affected if it is listed in `versions` or a
SEMVER/ECOSYSTEM range includes it; GIT ranges are ignored; withdrawn records and
records failing the OSV schema (checked with the `jsonschema` module when present,
else only the GIT-commit rule the PyPA dump breaks) are left out.
"""

import functools
import json
import os
import re
import subprocess
import sys
import zipfile

try:
    from packaging.version import InvalidVersion, Version
except ImportError:
    sys.exit(
        "python3-packaging is not installed: apt-get install python3-packaging"
        " (tests/run installs it)"
    )


@functools.lru_cache(maxsize=None)
def dpkg_lt(a, b):
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


@functools.lru_cache(maxsize=None)
def rpm_cmp(a, b):
    # Versions come from advisory records and package databases: no quotes in them.
    if "'" in a or "'" in b:
        raise ValueError(a + " " + b)
    out = subprocess.run(
        ["rpm", "--eval", "%%{lua: print(rpm.vercmp('%s', '%s'))}" % (a, b)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    return int(out)


@functools.total_ordering
class Rpm:
    """An rpm [epoch:]version-release, ordered by rpm itself."""

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return rpm_cmp(self.v, other.v) < 0

    def __eq__(self, other):
        return rpm_cmp(self.v, other.v) == 0


@functools.total_ordering
class Deb:
    """A Debian version, ordered by dpkg itself."""

    def __init__(self, v):
        self.v = v

    def __lt__(self, other):
        return dpkg_lt(self.v, other.v)

    def __eq__(self, other):
        return not dpkg_lt(self.v, other.v) and not dpkg_lt(other.v, self.v)


SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_key(v):
    if v.startswith("go"):  # Go toolchain names: go1.19.8, go1.21rc2
        m = re.match(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?([a-z]+)?(\d+)?$", v)
        if not m:
            raise ValueError(v)
        core = tuple(int(x or 0) for x in m.group(1, 2, 3))
        pre = (m.group(4) + "." + m.group(5)) if m.group(4) else None
    else:
        m = SEMVER.match(v)
        if not m:
            raise ValueError(v)
        core = tuple(int(x) for x in m.group(1, 2, 3))
        pre = m.group(4)
    if pre is None:
        return core + ((1,),)
    ids = []
    for part in pre.split("."):
        ids.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return core + ((0, tuple(ids)),)


APK = re.compile(r"^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:-r(\d+))?$")
APK_SUFFIXES = ["alpha", "beta", "pre", "rc", None, "cvs", "svn", "git", "hg", "p"]


def apk_key(v):
    """apk's ordering: the numbers one by one (a longer list wins a tie), then the
    letter, then the suffixes (pre-releases below none, `_p` above), then `-rN`."""
    m = APK.match(v)
    if not m:
        raise ValueError(v)
    numbers = [int(x) for x in m.group(1).split(".")]
    suffixes = []
    for part in re.findall(r"_([a-z]+)(\d*)", m.group(3)):
        suffixes.append((APK_SUFFIXES.index(part[0]), int(part[1] or 0)))
    suffixes.append((APK_SUFFIXES.index(None), 0))
    return (numbers, m.group(2), suffixes, int(m.group(4) or 0))


def key_function(ecosystem):
    base = ecosystem.split(":")[0]
    if base in ("Debian", "Ubuntu"):
        return Deb
    if base in ("Alpine", "Wolfi", "Chainguard"):
        return apk_key
    if base in ("Red Hat", "Rocky Linux", "AlmaLinux", "SUSE", "openSUSE"):
        return Rpm
    if base == "PyPI":
        return Version
    if base in ("npm", "Go", "crates.io"):
        return semver_key
    raise ValueError("no ordering for " + ecosystem)


def pypi_name(n):
    return re.sub(r"[-_.]+", "-", n).lower()


def same_name(ecosystem, a, b):
    return pypi_name(a) == pypi_name(b) if ecosystem == "PyPI" else a == b


def in_range(events, version, key):
    """The OSV schema's evaluation of one range's events."""
    try:
        ordered = sorted(events, key=functools.cmp_to_key(lambda a, b: compare_events(a, b, key)))
        here = key(version)
        for e in events:
            if "limit" in e and here >= key(e["limit"]):
                return False
        affected = False
        for e in ordered:
            if "introduced" in e and (e["introduced"] == "0" or here >= key(e["introduced"])):
                affected = True
            elif "fixed" in e and here >= key(e["fixed"]):
                affected = False
            elif "last_affected" in e and here > key(e["last_affected"]):
                affected = False
        return affected
    except (InvalidVersion, ValueError):
        return False


def compare_events(a, b, key):
    def k(e):
        kind, v = next(iter(e.items()))
        return None if (kind == "introduced" and v == "0") else key(v)
    ka, kb = k(a), k(b)
    if ka is None or kb is None:
        return (ka is not None) - (kb is not None)
    return -1 if ka < kb else (1 if kb < ka else 0)


def listed(versions, version, key):
    if version in versions:
        return True
    try:
        here = key(version)
    except (InvalidVersion, ValueError):
        return False
    for v in versions:
        try:
            if key(v) == here:
                return True
        except (InvalidVersion, ValueError):
            pass
    return False


GIT_COMMIT = re.compile(r"^(0|[a-f0-9]{40}|[a-f0-9]{64})$")


def schema_ok(record, validator):
    if validator is not None:
        return validator.is_valid(record)
    for a in record.get("affected") or []:
        for r in a.get("ranges", []):
            if r.get("type") == "GIT":
                for e in r.get("events", []):
                    if not all(GIT_COMMIT.match(v) for v in e.values()):
                        return False
    return True


def records(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in os.walk(path):
                for f in sorted(files):
                    if f.endswith(".json"):
                        with open(os.path.join(root, f), "rb") as fh:
                            yield json.load(fh)
        else:
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    if name.endswith(".json"):
                        yield json.loads(z.read(name))


def probes(paths):
    seen = set()
    per_package = {}
    out = []
    for record in records(paths):
        for a in record.get("affected") or []:
            eco, name = a["package"]["ecosystem"], a["package"]["name"]
            versions = list(a.get("versions", []))[:3]
            for r in a.get("ranges", []):
                if r["type"] != "GIT":
                    versions += [v for e in r["events"] for v in e.values() if v != "0"]
            for v in versions:
                # A handful per package: the stdlib alone would give hundreds.
                if per_package.get((eco, name), 0) >= 6:
                    break
                if (eco, name, v) not in seen:
                    seen.add((eco, name, v))
                    per_package[(eco, name)] = per_package.get((eco, name), 0) + 1
                    out.append({"ecosystem": eco, "name": name, "version": v})
    json.dump(out, sys.stdout)


def main():
    if sys.argv[1:2] == ["--probes"]:
        return probes(sys.argv[2:])
    try:
        import jsonschema
        schema_path = os.environ.get("OSV_SCHEMA")
        validator = None
        if schema_path:
            with open(schema_path) as f:
                validator = jsonschema.Draft202012Validator(json.load(f))
    except ImportError:
        validator = None
    packages = json.load(sys.stdin)
    wanted = {}
    for p in packages:
        p["matches"] = []
        wanted.setdefault((p["ecosystem"], pypi_name(p["name"]) if p["ecosystem"] == "PyPI" else p["name"]), []).append(p)
    for record in records(sys.argv[1:]):
        if record.get("withdrawn") or not schema_ok(record, validator):
            continue
        for a in record.get("affected") or []:
            eco, name = a["package"]["ecosystem"], a["package"]["name"]
            key_name = pypi_name(name) if eco == "PyPI" else name
            for p in wanted.get((eco, key_name), []):
                if record["id"] in p["matches"]:
                    continue
                key = key_function(eco)
                hit = any(
                    r["type"] in ("SEMVER", "ECOSYSTEM") and in_range(r["events"], p["version"], key)
                    for r in a.get("ranges", [])
                ) or listed(a.get("versions", []), p["version"], key)
                if hit:
                    p["matches"].append(record["id"])
    for p in packages:
        p["matches"].sort()
    json.dump(packages, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
