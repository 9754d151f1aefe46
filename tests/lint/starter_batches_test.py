"""The starter's batches and monitoring settings tell the story its README tells: a model trained on
data/train, each later batch scored with src/score.py and judged by `amlops-monitor decide` with the
starter's amlops.yml (its reference and current data given as files): stable -> no retrain; current -> data drift; concept -> performance and
concept drift without data drift.

Usage: starter_batches_test.py AMLOPS_MONITOR STARTER_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

PY = "/usr/bin/python3"
EXPECTED = {  # batch -> the signals that must trigger (every other signal must not)
    "stable": set(),
    "current": {"data_drift"},
    "concept": {"performance", "concept_drift"},
}


def main():
    monitor, starter = sys.argv[1], os.path.abspath(sys.argv[2])
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "model")
        subprocess.run([PY, os.path.join(starter, "src", "train.py"), "--training_data",
                        os.path.join(starter, "data", "train"), "--model_output", model],
                       check=True, stdout=subprocess.DEVNULL)
        for batch, want in EXPECTED.items():
            work = os.path.join(tmp, batch)
            os.makedirs(os.path.join(work, "outputs", "model"))
            shutil.copy(os.path.join(model, "scored.csv"), os.path.join(work, "outputs", "model", "scored.csv"))
            shutil.copy(os.path.join(starter, "amlops.yml"), work)
            subprocess.run([PY, os.path.join(starter, "src", "score.py"), "--model", model, "--data",
                            os.path.join(starter, "data", batch), "--output",
                            os.path.join(work, "outputs", "current_scored.csv")], check=True, stdout=subprocess.DEVNULL)
            # amlops.yml's reference is the workspace's data asset; here the same file, trained locally.
            r = subprocess.run([monitor, "decide", "--config", os.path.join(work, "amlops.yml"),
                                "--reference", os.path.join(work, "outputs", "model", "scored.csv"),
                                "--current", os.path.join(work, "outputs", "current_scored.csv"), "--output", "json"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"{batch}: amlops-monitor decide exited {r.returncode}: {r.stderr.strip()}")
                continue
            decision = json.loads(r.stdout)
            got = {name for name, s in decision["signals"].items() if s["triggered"]}
            print(f"{batch}: retrain={decision['retrain']} triggered={sorted(got)}")
            if got != want or decision["retrain"] != bool(want):
                failures.append(f"{batch}: expected {sorted(want) or 'no retrain'}, got retrain={decision['retrain']} "
                                f"{sorted(got)}: {decision['reasons']}")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
