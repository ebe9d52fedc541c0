#!/usr/bin/env python3
"""Turn Alpine's secdb (v3.10-main.yaml and v3.11-main.yaml here, real) into OSV
records in the shape osv.dev publishes for Alpine: one record per CVE, id
`ALPINE-<CVE>`, the CVE as `upstream`, one `affected` entry per source package and
branch (`Alpine:v3.10`, `Alpine:v3.11`) with an ECOSYSTEM range `introduced 0, fixed
<secfix version>`. secdb's `0` key ("never
affected") gives no range, as osv.dev's converter skips it. The records are
derived, not osv.dev's own: `modified` is the secdb commit's date.

    tests/data/vuln/alpine-secdb/to-osv.py OUT.zip
"""
import json
import sys
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
COMMIT_DATE = "2020-02-04T10:25:20Z"  # secdb commit daac4275, the newer of the two files


def main(out: str) -> None:
    records: dict[str, dict] = {}
    for path in sorted(HERE.glob("v*-main.yaml")):
        add(yaml.safe_load(path.read_text()), records)
    write(records, out)


def add(db: dict, records: dict) -> None:
    ecosystem = "Alpine:" + db["distroversion"]
    for entry in db["packages"]:
        name = entry["pkg"]["name"]
        for fixed, ids in (entry["pkg"].get("secfixes") or {}).items():
            fixed = str(fixed)
            if fixed == "0":
                continue
            for cve in ids or []:
                cve = str(cve).split()[0]
                if not cve.startswith("CVE-"):
                    continue
                rec = records.setdefault(
                    cve,
                    {
                        "schema_version": "1.6.0",
                        "id": "ALPINE-" + cve,
                        "modified": COMMIT_DATE,
                        "upstream": [cve],
                        "details": "Fixed in Alpine as its secdb (secfixes) says.",
                        "affected": [],
                    },
                )
                rec["affected"].append(
                    {
                        "package": {
                            "ecosystem": ecosystem,
                            "name": name,
                            "purl": f"pkg:apk/alpine/{name}?arch=source",
                        },
                        "ranges": [
                            {
                                "type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": fixed}],
                            }
                        ],
                    }
                )


def write(records: dict, out: str) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for cve in sorted(records):
            rec = records[cve]
            info = zipfile.ZipInfo(rec["id"] + ".json", date_time=(2020, 2, 4, 10, 25, 20))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, json.dumps(rec, indent=2) + "\n")
    print(f"{len(records)} records -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
