import argparse, os, sys, time

from tracking import log_metric
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--epochs", type=int)
p.add_argument("--data")
p.add_argument("--model")
p.add_argument("--fail", default="no")
p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
print(f"training lr={a.lr} epochs={a.epochs}", flush=True)
if a.fail == "yes":
    print("ValueError: training data is empty", file=sys.stderr, flush=True)
    sys.exit(3)
time.sleep(a.sleep)
rows = open(a.data).read().splitlines() if a.data and os.path.isfile(a.data) else []
acc = 0.9 + 0.001 * len(rows)
log_metric("accuracy", acc)
log_metric("loss", 0.25)
os.makedirs(a.model, exist_ok=True)
open(os.path.join(a.model, "model.pkl"), "w").write("weights")
open(os.path.join(a.model, "MLmodel"), "w").write("flavors: {}\n")
print("done, accuracy", acc, flush=True)
