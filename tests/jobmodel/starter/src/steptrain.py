import sys, os
print("train got", os.listdir(sys.argv[1]), "lr", sys.argv[2], flush=True)
os.makedirs(sys.argv[3], exist_ok=True); open(os.path.join(sys.argv[3], "m.txt"), "w").write("m")
