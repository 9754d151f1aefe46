import sys, os

from tracking import log_metric

print("train got", os.listdir(sys.argv[1]), "lr", sys.argv[2], flush=True)
os.makedirs(sys.argv[3], exist_ok=True); open(os.path.join(sys.argv[3], "m.txt"), "w").write("m")
log_metric("accuracy", 0.875)  # the pipeline keeps no metrics of its own: a model registered from it takes this step's
