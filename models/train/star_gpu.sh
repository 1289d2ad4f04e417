#!/usr/bin/env bash
# One-shot GPU run of the star-convex recipe (models/recipes/saemi-star-2.1.json, profile gpu), for a session that
# is lent a device machine:
#   here, once:  /usr/bin/python3 models/train/reproduce.py models/recipes/saemi-star-2.1.json --to init \
#                    --run models/train/runs/star-init
#                /usr/bin/python3 models/train/star_pack.py --data ../shared/data \
#                    --init models/train/runs/star-init/init/last.pt --out models/train/pack \
#                    --synth models/train/synth/synth-agglom-211,models/train/synth/synth-mixed-212 --synth-max 50
#                /usr/bin/python3 models/train/reproduce.py models/recipes/saemi-star-2.1.json --hash
#                    (the pack's hashes into the recipe's gpu profile; commit them)
#   device run:  command "bash models/train/star_gpu.sh", carry ["models/train/pack"], timeout_s 600
#   here, after: /usr/bin/python3 models/train/reproduce.py models/recipes/saemi-star-2.1.json --profile gpu \
#                    --run <the fetched run folder> --from validate      (the CLI's scores on every source)
# On the machine, reproduce.py checks the pack against the recipe's hashes, builds the patch bank on the cores while
# training reads it, trains, exports ONNX, chooses the thresholds on the training part and writes the sidecar, all
# into $OUT/run.
set -euo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/star-out}
mkdir -p "$OUT/run/init"
cp models/train/pack/init.pt "$OUT/run/init/last.pt"   # the init stage's output, made here (no ONNX runtime there)
python3 models/train/reproduce.py models/recipes/saemi-star-2.1.json --profile gpu --data models/train/pack/data \
  --run "$OUT/run" --to sidecar 2>&1 | tee "$OUT/reproduce.txt"
rm -rf "$OUT/run/bank"   # the bank is data made from the pack: not worth bringing back
