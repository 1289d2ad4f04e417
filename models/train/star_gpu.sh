#!/usr/bin/env bash
# One-shot GPU run of the star-convex candidate (issue 20), for a session that is lent a device machine:
#   here, once:  /usr/bin/python3 models/train/from_onnx.py --data ../shared/data --out models/train/runs/from-onnx/last.pt
#                /usr/bin/python3 models/train/star_pack.py --data ../shared/data \
#                    --init models/train/runs/from-onnx/last.pt --out models/train/pack
#   device run:  command "bash models/train/star_gpu.sh", carry ["models/train/pack"], timeout_s 600
# It builds the patch bank on the machine's cores (~2 min), trains ~6 min on the GPU, exports ONNX and scores
# the semseg_sem hold-out with the Python twin; everything it keeps goes to $OUT (star.onnx, last.pt, logs).
set -euo pipefail
export PYTHONUNBUFFERED=1
PACK=models/train/pack
OUT=${OUT:-/tmp/star-out}
BANK=/tmp/star-bank
mkdir -p "$OUT" "$BANK"
cp "$PACK/star_split.json" models/train/star_split.json
nproc_=$(nproc)
writers=$(( nproc_ > 2 ? nproc_ - 2 : 1 ))
for i in $(seq 0 $((writers - 1))); do
  timeout 150 python3 models/train/star_bank.py --data "$PACK/data" --out "$BANK" --n 400 --start $((i * 400)) \
    > "/tmp/bank-$i.txt" 2>&1 &
done
sleep 45   # training starts on what is there; the bank keeps growing under it
python3 models/train/star_train.py --bank "$BANK" --init "$PACK/init.pt" --out "$OUT" --minutes "${STAR_MINUTES:-6}" \
  --device cuda --batch 32 --workers 4 --threads 4 --lr 2e-3 2>&1 | tee "$OUT/train.txt"
wait || true
echo "bank patches: $(ls "$BANK" | wc -l)" | tee -a "$OUT/train.txt"
python3 models/train/star_export.py --ckpt "$OUT/last.pt" --out "$OUT/star.onnx" 2>&1 | tee "$OUT/export.txt"
python3 models/train/star_eval.py --data "$PACK/data" --ckpt "$OUT/last.pt" --sources semseg_sem --grid \
  --device cuda --json "$OUT/eval.json" 2>&1 | tee "$OUT/eval.txt"
