"""Training and validation records of a model version: models/records/<name>-<version>.json. They stay in the
repository beside the model but are never shipped to browsers; the sidecar carries the contract and a one-line
provenance that points here.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
RECORDS = os.path.join(ROOT, "models", "records")
SIDECAR = os.path.join(ROOT, "models", "saemi-unet.json")


def record_path(sidecar):
    return os.path.join(RECORDS, "%s-%s.json" % (sidecar["name"], sidecar["version"]))


def provenance(sidecar):
    return (
        "trained and validated by models/train (models/README.md); records: models/records/%s-%s.json"
        % (sidecar["name"], sidecar["version"])
    )


def load_record(sidecar):
    p = record_path(sidecar)
    return json.load(open(p)) if os.path.exists(p) else {}


def write_record(sidecar, record):
    os.makedirs(RECORDS, exist_ok=True)
    with open(record_path(sidecar), "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


def update_record(change):
    """Let `change` edit the shipped sidecar's record in place, and write it back."""
    sc = json.load(open(SIDECAR))
    r = load_record(sc)
    change(r)
    write_record(sc, r)
